import fc from 'fast-check';
import { takeEarlyMoto } from '../../src/local/moto';

/*
 * Issue 12, item 13 (start-up time): `npm start` (src/local/start.cjs) spawns moto before tsx and
 * the bot load, and names it to the bot in DRBOT_EARLY_MOTO=PORT:PID. The bot adopts that server,
 * or starts its own when the early one died; nothing it spawns inherits the variable. What it reads
 * from the variable is checked here; the servers themselves in test/long/moto-processes.test.ts.
 */

describe('DRBOT_EARLY_MOTO', () => {
  it('is read once, then taken out of the environment', () => {
    const env: NodeJS.ProcessEnv = { DRBOT_EARLY_MOTO: '41234:5678' };
    expect(takeEarlyMoto(env)).toEqual({ port: 41234, pid: 5678 });
    expect(env.DRBOT_EARLY_MOTO).toBeUndefined();
    expect(takeEarlyMoto(env)).toBeUndefined();
  });

  it('is ignored unless it is exactly PORT:PID with a usable port and pid', () => {
    for (const bad of ['', '41234', ':5678', '41234:', '0:5678', '70000:5678', '41234:1', '41234:0', '4123x:5678', ' 41234:5678', '41234:5678\n', '-1:5678', '41234:5678:9']) {
      const env: NodeJS.ProcessEnv = { DRBOT_EARLY_MOTO: bad };
      expect(takeEarlyMoto(env)).toBeUndefined();
      expect(env.DRBOT_EARLY_MOTO).toBeUndefined();
    }
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (raw) => {
        const got = takeEarlyMoto({ DRBOT_EARLY_MOTO: raw });
        if (got) expect(`${got.port}:${got.pid}`).toBe(raw);
      }),
      { seed: 12, numRuns: 2000 },
    );
  });
});
