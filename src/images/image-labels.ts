/** Image labels helmet-build sets on what it builds: the engine's copy of an image says which inputs made it. */
export const INPUT_DIGEST_LABEL = 'io.helmet.input-digest';
export const COMPONENT_LABEL = 'io.helmet.component';
export const BASE_IMAGE_LABEL = 'io.helmet.base-image';
