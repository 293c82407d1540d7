// Plain-language text: command acks and who resolved a request.
import { describe, expect, it } from 'vitest';
import { ackInWords, byInWords, targetInWords } from '../src/app/words.js';
import type { CommandAck } from '../src/proto/payload.js';
import type { AgentSummary } from '../src/app/types.js';

const ack = (o: Partial<CommandAck>): CommandAck => ({
  command_msg_id: 'x', op: 'stop', target: 'all', outcome: 'done', processes: 52,
  frozen_after_us: null, gone_after_us: null, detail: null, ...o,
});
const agent = { id: 'a1', kind: 'codex', display_name: '', project: null } as AgentSummary;

describe('command acks in words', () => {
  it('says how many processes were stopped and how fast', () => {
    expect(ackInWords(ack({ gone_after_us: 41_000 }), 'L')).toEqual({ level: 'ok', text: 'L stopped: 52 processes gone in 41 ms' });
    expect(ackInWords(ack({ processes: 1, gone_after_us: 2_340 }), 'L').text).toBe('L stopped: 1 process gone in 2.3 ms');
  });
  it('says how many were frozen by a pause, and just "resumed" for a resume', () => {
    expect(ackInWords(ack({ op: 'pause', frozen_after_us: 12_600 }), 'L').text).toBe('L paused: 52 processes frozen in 13 ms');
    expect(ackInWords(ack({ op: 'resume' }), 'L').text).toBe('L resumed');
  });
  it('says partial, failed, refused and no-such-agent clearly, with the detail', () => {
    expect(ackInWords(ack({ outcome: 'partial', gone_after_us: 5_000, detail: '2 survived' }), 'L'))
      .toEqual({ level: 'warn', text: 'L only partly stopped: 52 processes gone in 5 ms (2 survived)' });
    expect(ackInWords(ack({ outcome: 'failed', detail: 'EPERM' }), 'L')).toEqual({ level: 'error', text: 'L: could not stop (EPERM)' });
    expect(ackInWords(ack({ outcome: 'refused', op: 'pause' }), 'L')).toEqual({ level: 'error', text: 'L: the desktop refused to pause' });
    expect(ackInWords(ack({ outcome: 'no_such_agent' }), 'L').level).toBe('warn');
  });
  it('names the target by its display name or kind, and its project', () => {
    expect(targetInWords({ agent: 'a1' }, [agent], 'm')).toBe('codex');
    expect(targetInWords({ agent: 'a1' }, [{ ...agent, display_name: 'Codex', project: 'web' }], 'm')).toBe('Codex · web');
    expect(targetInWords({ agent: 'gone' }, [agent], 'm')).toBe('gone');
    expect(targetInWords('all', [], 'ana-laptop')).toBe('All agents on ana-laptop');
  });
});

describe('who resolved a request', () => {
  const me = '7772af65a7fdff8e5707e1da3bce072d';
  it('prefers by_name, then knows the terminal, the desktop, this phone and other phones', () => {
    expect(byInWords('cli', 'Ana’s terminal', me)).toBe('Ana’s terminal');
    expect(byInWords('cli', null, me)).toBe('the terminal');
    expect(byInWords('tray', null, me)).toBe('the desktop');
    expect(byInWords(me, null, me)).toBe('this phone');
    expect(byInWords('00'.repeat(16), null, me)).toBe('another phone');
    expect(byInWords(null, null, me)).toBeNull();
  });
});

describe('the command shown for an action', () => {
  it('is found in the desktop canonical action, a flat object, or a raw Bash line', async () => {
    const { commandOf } = await import('../src/app/reduce.js');
    const canonical = '{"agent":"claude","cwd":"/w","session":"s","tool":"Bash","tool_input":{"command":"echo live","description":"x"}}';
    expect(commandOf('Bash', canonical)).toBe('echo live');
    expect(commandOf('Bash', '{"command":"ls"}')).toBe('ls');
    expect(commandOf('Bash', 'rm -rf ./build')).toBe('rm -rf ./build');
    expect(commandOf('Edit', '{"tool_input":{"file_path":"/a"}}')).toBeNull();
    expect(commandOf('Edit', 'not json')).toBeNull();
  });
});
