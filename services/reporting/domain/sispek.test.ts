import { it } from 'node:test';
import assert from 'node:assert/strict';
import { correctToReferenceO2 } from '../../../shared/domain/o2.ts';
import { inputsFromBody, sispekBody, validityOf, type HourInput, type StackSettings } from './sispek.ts';
import { sispekBodySchema } from './bodies.ts';

const start = Date.UTC(2026, 10, 27, 2);
const end = start + 3_600_000;
const stack: StackSettings = { stack: 'st-1', park: 'p', tenant: 't', metrics: ['so2', 'nox', 'o2', 'opacity'], cadenceSeconds: 300, o2ReferencePercent: 7, ranges: new Map([['so2', 1000]]), minCompleteness: 0.8 };
const input = (count: number, mean: number, extra: Partial<HourInput> = {}): HourInput => ({ unit: 'mg/Nm3', mean, min: mean, max: mean, count, expected: 12, windowRevision: 0, ...extra });

it('flags each parameter: valid, incomplete below the threshold, maintenance, out of range', () => {
  assert.equal(validityOf('so2', input(12, 300), stack, false).validity, 'valid');
  assert.equal(validityOf('so2', input(10, 300), stack, false).validity, 'valid', '10 of 12 is 83 %');
  assert.equal(validityOf('so2', input(9, 300), stack, false).validity, 'incomplete', '9 of 12 is below 80 %');
  assert.equal(validityOf('so2', input(9, 300), { ranges: new Map() }, false).validity, 'valid', 'at the project-wide 75 % it passes');
  assert.equal(validityOf('so2', undefined, stack, false).validity, 'incomplete');
  assert.equal(validityOf('so2', input(12, 300), stack, true).validity, 'maintenance');
  assert.equal(validityOf('so2', input(12, 300, { max: 1001 }), stack, false).validity, 'out-of-range', 'past the analyser\'s full scale');
  assert.equal(validityOf('so2', input(12, 300, { min: -1 }), stack, false).validity, 'out-of-range', 'a negative concentration');
  assert.equal(validityOf('o2', input(12, 10, { max: 22 }), stack, false).validity, 'out-of-range', 'O2 above 21 %');
  assert.equal(validityOf('opacity', input(12, 50, { max: 101 }), stack, false).validity, 'out-of-range');
});

it('corrects concentrations to the reference O2 with the same hour\'s O2 mean, with the count behind each mean', () => {
  const inputs = new Map<string, HourInput>([['so2', input(12, 340.123)], ['nox', input(9, 200)], ['o2', input(12, 10, { unit: '%' })]]);
  const body = sispekBody(stack, start, end, inputs, 0, false);
  assert.equal(sispekBodySchema.safeParse(body).success, true);
  const so2 = body.parameters.find((p) => p.parameter === 'so2')!;
  assert.equal(so2.mean, 340.12);
  assert.equal(so2.corrected, Math.round(correctToReferenceO2(340.123, 10, 7)! * 100) / 100);
  assert.equal(so2.corrected, 432.88);
  assert.deepEqual([so2.count, so2.expected, so2.completeness, so2.validity], [12, 12, 1, 'valid']);
  const nox = body.parameters.find((p) => p.parameter === 'nox')!;
  assert.deepEqual([nox.count, nox.validity], [9, 'incomplete']);
  const o2 = body.parameters.find((p) => p.parameter === 'o2')!;
  assert.equal(o2.corrected, undefined, 'O2 itself is not corrected');
  const opacity = body.parameters.find((p) => p.parameter === 'opacity')!;
  assert.deepEqual([opacity.count, opacity.mean, opacity.validity], [0, null, 'incomplete'], 'a parameter that sent nothing is reported with count 0');
});

it('a concentration is no better than the O2 it was corrected with', () => {
  const body = sispekBody(stack, start, end, new Map([['so2', input(12, 300)], ['o2', input(6, 10, { unit: '%' })]]), 0, false);
  const so2 = body.parameters.find((p) => p.parameter === 'so2')!;
  assert.equal(so2.validity, 'incomplete');
  assert.match(so2.reason ?? '', /^O2: /);
  const noO2 = sispekBody(stack, start, end, new Map([['so2', input(12, 300)]]), 0, false).parameters.find((p) => p.parameter === 'so2')!;
  assert.deepEqual([noO2.corrected, noO2.validity], [null, 'incomplete']);
});

it('flags every parameter of an hour in maintenance, and reads a body back to its inputs', () => {
  const inputs = new Map<string, HourInput>([['so2', input(12, 300)], ['o2', input(12, 10, { unit: '%' })]]);
  const body = sispekBody(stack, start, end, inputs, 3, true);
  assert.ok(body.parameters.every((p) => p.validity === 'maintenance'));
  assert.equal(body.revision, 3);
  assert.deepEqual(sispekBody(stack, start, end, inputsFromBody(body), 3, true), body);
});
