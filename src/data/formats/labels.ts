// Maps class ids as they appear in annotation files to 0..C-1 in the order first seen.
export class LabelMap {
  private readonly ids = new Map<string, number>();

  label(classId: string): number {
    let label = this.ids.get(classId);
    if (label === undefined) {
      label = this.ids.size;
      this.ids.set(classId, label);
    }
    return label;
  }

  get size(): number {
    return this.ids.size;
  }

  has(classId: string): boolean {
    return this.ids.has(classId);
  }
}
