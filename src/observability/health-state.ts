export type ServingStatus = "SERVING" | "NOT_SERVING";

/** Serving status per service name ("" is the whole server), with listeners for Health/Watch. */
export class HealthState {
  private readonly statuses = new Map<string, ServingStatus>();
  private readonly listeners = new Set<() => void>();

  constructor(services: readonly string[]) {
    for (const s of ["", ...services]) this.statuses.set(s, "NOT_SERVING");
  }

  get(service: string): ServingStatus | undefined {
    return this.statuses.get(service);
  }

  /** Sets every service at once: keyward's services share one database and one fate. */
  setAll(status: ServingStatus): void {
    let changed = false;
    for (const [name, current] of this.statuses) {
      if (current !== status) {
        this.statuses.set(name, status);
        changed = true;
      }
    }
    if (changed) for (const l of this.listeners) l();
  }

  /** For tests: a Watch that ended must leave nothing registered. */
  get listenerCount(): number {
    return this.listeners.size;
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
