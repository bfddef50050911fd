// The viewer-delay control of the game page: a seconds field (0..600) and a line saying whether
// a delay is active and how many events it holds.

import { parseDelaySeconds, MAX_DELAY_SECONDS } from '../delay';
import { h, setAttrs, setText } from '../dom';

export class DelayControl {
  readonly element: HTMLElement;
  private readonly input: HTMLInputElement;
  private readonly error: HTMLElement;
  private readonly status: HTMLElement;

  constructor(
    seconds: number,
    private readonly onChange: (seconds: number) => void,
  ) {
    this.input = h('input', {
      id: 'viewer-delay',
      class: 'delay-input',
      type: 'number',
      inputmode: 'numeric',
      min: 0,
      max: MAX_DELAY_SECONDS,
      step: 1,
      'data-testid': 'delay-input',
      'aria-describedby': 'viewer-delay-help viewer-delay-error',
    });
    this.input.value = String(seconds);
    this.error = h('p', { id: 'viewer-delay-error', class: 'field-error', role: 'alert', hidden: true });
    this.status = h('p', { class: 'delay-status', 'data-testid': 'delay-status', role: 'status' });
    const form = h(
      'form',
      { class: 'delay-form', 'data-testid': 'delay-form', novalidate: true },
      h('label', { for: 'viewer-delay' }, 'Viewer delay (seconds)'),
      h(
        'div',
        { class: 'delay-row' },
        this.input,
        h('button', { type: 'submit', class: 'button', 'data-testid': 'delay-apply' }, 'Set delay'),
      ),
    );
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.submit();
    });
    this.input.addEventListener('change', () => this.submit());
    this.element = h(
      'section',
      { class: 'panel delay', 'aria-label': 'Viewer delay' },
      form,
      this.error,
      h(
        'p',
        { id: 'viewer-delay-help', class: 'muted help' },
        `Holds the live updates back so the page matches a TV picture that lags (0–${MAX_DELAY_SECONDS} s, ` +
          'kept in this browser for every game).',
      ),
      this.status,
    );
  }

  /** Shows the delay in force and what it holds back. */
  update(seconds: number, heldEvents: number, waitingForSnapshot: boolean): void {
    let text = 'No delay: updates show as they arrive.';
    if (seconds > 0) {
      const held = waitingForSnapshot
        ? 'the game appears once the delay has passed'
        : `${heldEvents} ${heldEvents === 1 ? 'event' : 'events'} held`;
      text = `Delay ${seconds} s active · ${held}`;
    }
    setText(this.status, text);
    this.status.classList.toggle('active', seconds > 0);
    setAttrs(this.status, { 'data-delay': seconds, 'data-held': heldEvents });
  }

  private submit(): void {
    const seconds = parseDelaySeconds(this.input.value);
    if (seconds === null) {
      setText(this.error, `Enter whole seconds from 0 to ${MAX_DELAY_SECONDS}.`);
      this.error.hidden = false;
      setAttrs(this.input, { 'aria-invalid': 'true' });
      return;
    }
    this.error.hidden = true;
    setAttrs(this.input, { 'aria-invalid': null });
    this.input.value = String(seconds);
    this.onChange(seconds);
  }
}
