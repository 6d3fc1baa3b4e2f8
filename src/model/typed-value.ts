/** A value of a parameter type, as pipeline.yaml gives it and KFP takes it: "4" read as 4 for an integer. */
export type TypedValue = string | number | boolean | unknown[] | Record<string, unknown>;
