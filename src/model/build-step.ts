/** What happened to one build step (a Dockerfile instruction), as both builders report it. */
export interface BuildStep {
  /** As BuildKit names it: `[2/4] RUN pip install …`, `[internal] load build context`; classic: `Step 2/4 : RUN …`. */
  name: string;
  state: 'started' | 'cached' | 'done' | 'failed';
  /** For done and failed steps. */
  seconds?: number;
  error?: string;
}
