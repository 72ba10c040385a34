// Runs axe-core (WCAG 2.0 and 2.1, levels A and AA) on the page as it is now; returns the
// violations as lines, empty when there are none. Evaluated through the DevTools protocol,
// so the pages' own Content-Security-Policy does not stand in its way.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const source = fs.readFileSync(path.join(here, 'node_modules/axe-core/axe.min.js'), 'utf8');

export async function axeProblems(page, state) {
  await page.evaluate(source);
  const violations = await page.evaluate(async () => {
    const result = await window.axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
      resultTypes: ['violations'],
    });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.slice(0, 3).map((n) => `${n.target.join(' ')}: ${n.failureSummary.split('\n').slice(1, 2).join(' ')}`),
    }));
  });
  return violations.map((v) => `axe ${state}: ${v.id} (${v.impact}) ${v.help} — ${v.nodes.join(' | ')}`);
}
