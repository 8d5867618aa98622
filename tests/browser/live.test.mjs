// Live updates: with the study's page open, `tunewise run` adds trials to the same SQLite file;
// the trial count, the table and the history plot follow without a reload, also while a trial is
// still running (the program of the later trials waits for a gate file the test creates).

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { QUAD, eventually, openPage, rowNumbers, startTunewise, studyUrl, useDashboard } from './harness.mjs';

const BEFORE = 6; // trials in the study when the page opens
const ADDED = 6; // trials the run adds
const GATED = 3; // the run's first trials that finish at once; the next one waits for the gate

const env = useDashboard({ fixture: { quadTrials: BEFORE, paretoTrials: 0 } });

test('trials added by a running study appear without a reload', async () => {
    const { page, assertNoErrors } = await open();
    const count = async () => (await page.textContent('#trial-count')).trim();
    const history = () => page.locator('section#plots figure[data-kind="history"] svg').first().innerHTML();
    assert.equal(await count(), String(BEFORE));
    assert.equal((await rowNumbers(page)).length, BEFORE);
    await eventually(
        async () => /live/i.test(await page.textContent('#live')),
        async () => `#live reads ${JSON.stringify(await page.textContent('#live'))}`,
    );
    const historyBefore = await history();
    await page.evaluate(() => (window.__notReloaded = true));

    const gate = join(env.fixture.dir, 'gate');
    const run = startTunewise(
        ['run', '--config', env.fixture.quadConfig, '--storage', env.fixture.storage, '--trials', String(ADDED), '--progress', 'none'],
        { env: { GATE_FILE: gate, GATE_FROM: String(BEFORE + GATED) }, stopSignal: 'SIGINT' },
    );
    env.stopLater(run.stop);

    // While the run waits at the gate: its finished trials and the running one are shown.
    const midway = BEFORE + GATED + 1;
    const describe = async () => `#trial-count ${await count()}, rows ${JSON.stringify(await rowNumbers(page))}; run output: ${JSON.stringify(run.output())}`;
    await eventually(async () => (await count()) === String(midway) && (await rowNumbers(page)).length === midway, describe);
    // The figures are fetched after the count and the table: wait for the history too.
    await eventually(
        async () => (await history()) !== historyBefore,
        async () => 'the history plot is still the one drawn before the run',
    );

    writeFileSync(gate, '');
    const end = BEFORE + ADDED;
    await eventually(async () => (await count()) === String(end) && (await rowNumbers(page)).length === end, describe);
    const result = await run.done;
    assert.equal(result.code, 0, `tunewise run failed:\n${result.stderr}`);
    assert.deepEqual(
        [...(await rowNumbers(page))].sort((a, b) => a - b),
        Array.from({ length: end }, (_, i) => i),
    );
    assert.equal(await page.evaluate(() => window.__notReloaded), true, 'the page was reloaded');
    assertNoErrors();
    await page.close();
});

function open() {
    return openPage(env.browser, studyUrl(env.dashboard, QUAD));
}
