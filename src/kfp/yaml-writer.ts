/**
 * The YAML writer the KFP specs are rendered with, in a module of its own so that it is loaded only
 * when a spec is rendered (imported dynamically by the renderers): a run whose outputs are
 * unchanged never loads it.
 */
export { stringify } from 'yaml';
