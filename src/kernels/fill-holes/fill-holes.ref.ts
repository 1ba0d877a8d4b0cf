// CPU reference of hole filling (upstream `fill_holes_in_mask_scores`): 8-connected components of
// the background (logit <= 0) of each H×W mask; components of at most maxArea pixels get `fill`.

export function fillHolesRef(src: Float32Array, h: number, w: number, maxArea: number, fill = Math.fround(0.1)): Float32Array {
  const out = Float32Array.from(src);
  const seen = new Uint8Array(src.length);
  const stack: number[] = [];
  const component: number[] = [];
  for (let base = 0; base < src.length; base += h * w) {
    for (let s = base; s < base + h * w; s++) {
      if (seen[s] || !(src[s] <= 0)) continue;
      seen[s] = 1;
      stack.push(s);
      component.length = 0;
      while (stack.length > 0) {
        const i = stack.pop()!;
        component.push(i);
        const x = (i - base) % w;
        const y = Math.floor((i - base) / w);
        for (let dy = -1; dy <= 1; dy++)
          for (let dx = -1; dx <= 1; dx++) {
            const nx = x + dx;
            const ny = y + dy;
            if (nx < 0 || ny < 0 || nx >= w || ny >= h) continue;
            const j = base + ny * w + nx;
            if (!seen[j] && src[j] <= 0) {
              seen[j] = 1;
              stack.push(j);
            }
          }
      }
      if (component.length <= maxArea) for (const i of component) out[i] = fill;
    }
  }
  return out;
}
