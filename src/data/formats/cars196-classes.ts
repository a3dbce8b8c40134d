// The metric learning split of Cars196: classes 1-98 train, 99-196 test.
export function carsSplit(classId: number): 'train' | 'test' {
  return classId < 99 ? 'train' : 'test';
}
