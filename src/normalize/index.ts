// Public surface of the normalize stage.
export { createNormalizer, validateNormalizerOptions, NORMALIZER_DEFAULTS, type MappingNormalizer, type NormalizerOptions } from './normalizer.ts';
export { loadMappings, loadMappingFile, createRegistry, BUILTIN_MAPPINGS_DIR, type MappingRegistry, type DetectionReport } from './registry.ts';
export { compileMapping, type CompiledMapping, type MappedItem } from './mapping-compiler.ts';
export type { MappingFile } from './mapping-types.ts';
export { validateEvent } from './schema-validator.ts';
