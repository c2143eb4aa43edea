/**
 * Runs `tick` now and then every `intervalMs`, never two at once (a slow tick delays the next);
 * a failed tick is reported and the next one runs as planned. stop() waits for the tick running.
 */
export function every(
  intervalMs: number,
  tick: () => Promise<unknown>,
  onError: (error: unknown) => void,
): { stop(): Promise<void> } {
  let running: Promise<unknown> | undefined;
  const run = () => {
    if (running) return;
    running = tick()
      .catch(onError)
      .finally(() => {
        running = undefined;
      });
  };
  run();
  const timer = setInterval(run, intervalMs);
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
