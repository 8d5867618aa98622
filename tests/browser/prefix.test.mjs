// The dashboard under a URL prefix (`--url-prefix /tw`): the studies page, the link to a study,
// its plots and its table work, and every request the pages make stays under the prefix.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MARKS, QUAD, QUAD_TRIALS, eventually, openPage, rowNumbers, useDashboard, waitReadyPage } from './harness.mjs';

const env = useDashboard({ args: ['--url-prefix', '/tw'] });

test('the pages, plots and table work under --url-prefix /tw', async () => {
    const base = new URL(env.dashboard.url);
    assert.equal(base.pathname, '/tw/', `the ready line's URL: ${env.dashboard.line}`);
    const { page, requests, assertNoErrors } = await openPage(env.browser, env.dashboard.url);
    assert.equal(await page.getAttribute('body', 'data-page'), 'studies');

    await page.locator(`table#studies tbody tr[data-study="${QUAD}"] a`).first().click();
    await page.waitForURL((u) => u.pathname === `/tw/study/${QUAD}`);
    await waitReadyPage(page);
    assert.equal((await page.textContent('#trial-count')).trim(), String(QUAD_TRIALS));
    const history = page.locator('section#plots figure[data-kind="history"]').first();
    await eventually(
        async () => (await history.locator(`svg :is(${MARKS})`).count()) > 0,
        async () => `the history figure holds: ${(await history.innerHTML()).slice(0, 300)}`,
    );
    await eventually(async () => (await rowNumbers(page)).length > 0, async () => 'the trial table has no rows');

    const outside = requests.filter((u) => {
        const url = new URL(u);
        return url.origin === base.origin && !url.pathname.startsWith('/tw/');
    });
    assert.deepEqual(outside, [], 'requests outside the prefix');
    assertNoErrors();
    await page.close();
});
