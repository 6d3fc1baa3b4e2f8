/** The one pattern of the names helmet-build gives to files and Kubernetes objects: components, steps, parameters, pipelines. */
export const DNS_STYLE_NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

/**
 * A name `new` gives a component folder: lowercase words joined by `-`, `_` or `.`, as KFP
 * repositories name theirs (`confusion_matrix`), and a valid image name as it is.
 */
export const COMPONENT_FOLDER_NAME = /^[a-z0-9]+(?:[._-][a-z0-9]+)*$/;
