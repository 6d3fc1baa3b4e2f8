/** Version of the `plan --json` document; bumped on any incompatible change to its shape. */
export const PLAN_FORMAT_VERSION = 1;
