// The viewer-delay setting of the game page, one compact line in its settings row: a seconds
// field (0..600), its button, and a note saying whether a delay is active and how many events it
// holds. The explanation is the setting's tooltip (and the field's accessible description).

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
    this.status = h('span', { class: 'delay-status', 'data-testid': 'delay-status', role: 'status' });
    const form = h(
      'form',
      { class: 'delay-form', 'data-testid': 'delay-form', novalidate: true },
      h('label', { for: 'viewer-delay' }, 'Viewer delay (seconds)'),
      h(
        'span',
        { class: 'delay-row' },
        this.input,
        h('button', { type: 'submit', class: 'button button-small', 'data-testid': 'delay-apply' }, 'Set delay'),
      ),
      this.status,
    );
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.submit();
    });
    this.input.addEventListener('change', () => this.submit());
    const help =
      `Holds the live updates back so the page matches a TV picture that lags (0–${MAX_DELAY_SECONDS} s, ` +
      'kept in this browser for every game).';
    this.element = h(
      'div',
      { class: 'delay', role: 'group', 'aria-label': 'Viewer delay', title: help },
      form,
      this.error,
      h('p', { id: 'viewer-delay-help', class: 'visually-hidden' }, help),
    );
  }

  /** Shows the delay in force and what it holds back. */
  update(seconds: number, heldEvents: number, waitingForSnapshot: boolean): void {
    let text = 'No delay';
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
