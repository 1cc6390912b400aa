/**
 * A script for page.evaluate that counts the pixels of one colour on a canvas:
 * proof that a chart drew its line, not just its frame. A string, because the
 * tests are type-checked without the DOM library.
 */
export function countPixels(canvasSelector: string, rgb: readonly [number, number, number], tolerance = 24): string {
  return `(() => {
    const canvas = document.querySelector(${JSON.stringify(canvasSelector)});
    const ctx = canvas && canvas.getContext('2d');
    if (!ctx) return 0;
    const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
    const [r, g, b] = ${JSON.stringify(rgb)};
    let n = 0;
    for (let i = 0; i < data.length; i += 4) {
      if (Math.abs(data[i] - r) <= ${tolerance} && Math.abs(data[i + 1] - g) <= ${tolerance} && Math.abs(data[i + 2] - b) <= ${tolerance} && data[i + 3] > 200) n++;
    }
    return n;
  })()`;
}
