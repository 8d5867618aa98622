// Read-only by default: the pages show no control that writes (delete, enqueue, a form that
// posts), while the same pages served with --allow-writes do, so the check can see them. And the
// dashboard stops with status 0 on SIGTERM.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { QUAD, eventually, openPage, startDashboard, studyUrl, useDashboard } from './harness.mjs';

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

/** Waits until the study page has drawn its figures and filled its table: nothing more comes by itself. */
async function settled(page) {
    await eventually(
        () =>
            page.evaluate(() => {
                const figures = [...document.querySelectorAll('section#plots figure[data-kind]')];
                const rows = document.querySelectorAll('table#trials tbody tr[data-number]');
                return figures.length > 0 && figures.every((f) => f.querySelector('svg')) && rows.length > 0;
            }),
        async () => 'the study page did not draw every figure and fill its table',
    );
}

test('read-only by default: no write controls on the studies and study pages', async () => {
    assert.match(env.dashboard.line, /\(read-only\)/);
    const studies = await openPage(env.browser, env.dashboard.url);
    assert.deepEqual(await writeControls(studies.page), [], 'write controls on the studies page');
    studies.assertNoErrors();
    await studies.page.close();

    const study = await openPage(env.browser, studyUrl(env.dashboard, QUAD));
    await settled(study.page);
    assert.deepEqual(await writeControls(study.page), [], 'write controls on the study page');
    study.assertNoErrors();
    await study.page.close();
});

test('with --allow-writes the study page offers write controls', async () => {
    assert.match(writable.line, /\(writes allowed\)/);
    const { page, assertNoErrors } = await openPage(env.browser, studyUrl(writable, QUAD));
    await eventually(
        async () => (await writeControls(page)).length > 0,
        async () => 'no write control found with --allow-writes',
    );
    assertNoErrors();
    await page.close();
});

test('the dashboard exits with status 0 on SIGTERM', async () => {
    const result = await writable.stop();
    assert.equal(result.code, 0, `exit: ${result.code ?? result.signal}\n${result.stderr}`);
});
