/**
 * How a platform is written: `os/arch[/variant]`, as the Engine API and OCI indexes write it (linux/amd64,
 * linux/arm64, linux/arm/v7). Its own module, without the schema code: `--platform` is checked by the
 * CLI on every run, and the schemas (zod) load only when a project is read afresh.
 */
export const PLATFORM = /^[a-z0-9]+\/[a-z0-9_]+(?:\/[a-z0-9]+)?$/;
