/** Byte counts of a push in progress, over all of its layers. */
export interface PushProgress {
  /** Bytes sent so far, over every layer. */
  bytes: number;
  /** Bytes of the layers whose size is known so far. */
  totalBytes: number;
  layers: number;
  layersDone: number;
  /** Set when this message finished a layer. */
  finishedLayer?: { id: string; bytes: number; existed: boolean };
}
