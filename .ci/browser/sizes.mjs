// Screenshots of the page as it is now at phone, tablet and laptop sizes, each checked for
// sideways scrolling; the viewport is put back afterwards. Returns what looked wrong.
export const SIZES = [['phone', 390, 844], ['tablet', 820, 1180], ['laptop', 1280, 800]];

export async function atEverySize(page, shots, name) {
  const before = page.viewportSize();
  const problems = [];
  for (const [size, width, height] of SIZES) {
    await page.setViewportSize({ width, height });
    // Two frames: the new layout is computed and painted before the picture.
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    const sideways = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    if (sideways > 1) problems.push(`${name} scrolls sideways at ${size} width (${sideways}px)`);
    // Transitions (the side panel's drawer) fast-forwarded to where they end.
    await page.screenshot({ path: `${shots}/${name}-${size}.png`, animations: 'disabled' });
  }
  if (before) await page.setViewportSize(before);
  return problems;
}
