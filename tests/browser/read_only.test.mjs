// Read-only by default: the pages show no control that writes (delete, enqueue, a form that
// posts), while the same pages served with --allow-writes do, so the check can see them. And the
// dashboard stops with status 0 on SIGTERM.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { QUAD, openPage, startDashboard, studyUrl, useDashboard } from './harness.mjs';

let writable; // a second dashboard on the same storage, with --allow-writes
const env = useDashboard({
    setup: async (env) => {
        writable = await startDashboard(env.fixture.storage, ['--allow-writes']);
        env.stopLater(writable.stop);
    },
});

/** The visible controls of PAGE that look like they write: their descriptions. */
function writeControls(page) {
    return page.evaluate(() => {
        const visible = (e) => e.getClientRects().length > 0 && getComputedStyle(e).visibility !== 'hidden';
        const writes = /delete|remove|enqueue|add trial|new trial/i;
        const found = [];
        for (const e of document.querySelectorAll('button, input[type=submit], input[type=button], a, form')) {
            if (!visible(e)) continue;
            if (e.tagName === 'FORM') {
                if ((e.getAttribute('method') || 'get').toLowerCase() !== 'get') found.push(`form[method=${e.getAttribute('method')}]`);
                continue;
            }
            const label = `${e.textContent} ${e.value || ''} ${e.title || ''} ${e.getAttribute('aria-label') || ''}`;
            if (writes.test(label)) found.push(`${e.tagName.toLowerCase()}: ${label.trim()}`);
        }
        return found;
    });
}

test('read-only by default: no write controls on the studies and study pages', async () => {
    assert.match(env.dashboard.line, /\(read-only\)/);
    for (const url of [env.dashboard.url, studyUrl(env.dashboard, QUAD)]) {
        const { page, assertNoErrors } = await openPage(env.browser, url);
        assert.deepEqual(await writeControls(page), [], `write controls on ${url}`);
        assertNoErrors();
        await page.close();
    }
});

test('with --allow-writes the study page offers write controls', async () => {
    assert.match(writable.line, /\(writes allowed\)/);
    const { page, assertNoErrors } = await openPage(env.browser, studyUrl(writable, QUAD));
    assert.notDeepEqual(await writeControls(page), [], 'no write control found with --allow-writes');
    assertNoErrors();
    await page.close();
});

test('the dashboard exits with status 0 on SIGTERM', async () => {
    const result = await writable.stop();
    assert.equal(result.code, 0, `exit: ${result.code ?? result.signal}\n${result.stderr}`);
});
