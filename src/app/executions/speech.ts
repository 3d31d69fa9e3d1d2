/**
 * An execution's spoken messages: speak_on_send rendered with the inputs, runtime and context values as the
 * action starts; speak_on_receive after success, where a placeholder reaches into the output first
 * (`{{order.status}}`). Secrets are never looked up, and a message with a placeholder that has nothing to say
 * is left out, with the reason kept in the record.
 */
import type { Action } from '../../core/actions/model.ts';
import { renderSpoken } from '../../core/actions/spoken.ts';
import type { ExecutionSpeech } from '../../core/executions.ts';
import type { RunOutcome } from '../kinds/kind.ts';
import { flatLookup } from '../kinds/lookup.ts';

export function renderSpeech(
  action: Action,
  inputs: Readonly<Record<string, unknown>>,
  context: Readonly<Record<string, unknown>>,
  now: Date,
  outcome: RunOutcome,
): ExecutionSpeech | undefined {
  const { speakOnSend, speakOnReceive } = action.messages;
  if (speakOnSend === null && speakOnReceive === null) return undefined;
  const lookup = flatLookup(action, inputs, context, now);
  const speech: ExecutionSpeech = { speakOnSend: null, speakOnReceive: null, omitted: {} };
  if (speakOnSend !== null) {
    const sent = renderSpoken(speakOnSend, 'speak_on_send', lookup);
    if ('text' in sent) speech.speakOnSend = sent.text;
    else speech.omitted.speak_on_send = sent.omitted;
  }
  if (speakOnReceive !== null && outcome.status === 'succeeded') {
    const received = renderSpoken(speakOnReceive, 'speak_on_receive', lookup, { value: outcome.output });
    if ('text' in received) speech.speakOnReceive = received.text;
    else speech.omitted.speak_on_receive = received.omitted;
  }
  return speech;
}
