/** The one pattern of the names helmet-build gives to files and Kubernetes objects: components, steps, parameters, pipelines. */
export const DNS_STYLE_NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;
