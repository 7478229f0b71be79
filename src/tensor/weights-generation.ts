// A counter that moves whenever weights may have changed in place (a backward pass that an
// optimizer step follows, an optimizer step, loadStateDict, train()/eval()), so caches derived
// from weights (eval-mode BatchNorm folding) know when to rebuild.
let generation = 0;

export function weightsChanged(): void {
  generation++;
}

export function weightsGeneration(): number {
  return generation;
}
