// `npm run bench:profile` gives this module to every stack process with --import (PROFILE_CPU=1): each API
// process then starts a V8 CPU profile on its first SIGUSR2 and writes it on its second, to
// $PROFILE_CPU_DIR/<service>-<n>.cpuprofile (open it in Chrome DevTools or VS Code).
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';

if (process.argv.includes('api')) {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 200 });
  let running = false;
  let n = 0;
  process.on('SIGUSR2', async () => {
    if (!running) {
      running = true;
      await session.post('Profiler.start');
      return;
    }
    running = false;
    const { profile } = await session.post('Profiler.stop');
    const file = `${process.env.PROFILE_CPU_DIR}/${process.argv.at(-1)}-${n++}.cpuprofile`;
    writeFileSync(file, JSON.stringify(profile));
  });
}
