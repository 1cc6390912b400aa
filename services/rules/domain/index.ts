/** The rules service's pure core: what the runtime (main.ts) needs. */
export { RulesEngine, type AlertView, type EngineChanges, type EngineCounters, type EngineSnapshot, type Home, type Transition } from './engine.ts';
export { compile, type Binding, type Compiled, type SkippedBinding } from './compile.ts';
export { defaultRulePackPath, parseRulePack, ruleKinds, comparisonOps, rulePackSchema, type PackIssue, type RulePack, type RuleSpec } from './pack.ts';
export { fingerprint, type AlertScope } from './fingerprint.ts';
export { stateRecordSchema, type StateRecord } from './state.ts';
export { silenceRecordSchema, silenceActive, silenceMatches, type SilenceRecord } from './silences.ts';
export { correctToReferenceO2 } from '../../../shared/domain/o2.ts';
