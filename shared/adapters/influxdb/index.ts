export { createInfluxStore, type InfluxStoreOptions } from './influx-store.ts';
