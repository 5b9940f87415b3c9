/** The panel's one-line notice under the form: an error (announced at once) or information (polite). */
import { firstLine } from '../src/common/firstLine';
import { el } from './dom';

export class NoticeView {
  readonly root = el('div', { id: 'notice', class: 'notice', role: 'status', 'aria-live': 'polite' });

  show(level: 'error' | 'info', message: string): void {
    this.root.textContent = firstLine(message);
    this.root.className = `notice ${level}`;
    this.root.setAttribute('role', level === 'error' ? 'alert' : 'status');
  }

  get text(): string {
    return this.root.textContent ?? '';
  }
}
