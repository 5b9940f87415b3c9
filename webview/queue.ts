/** The visible queue: generations waiting behind the running one, each removable. */
import type { FromWebview, JobSummary } from '../src/protocol/webviewMessages';
import { clear, el } from './dom';

export class QueueView {
  readonly root: HTMLElement;
  private readonly list: HTMLElement;

  constructor(private readonly send: (message: FromWebview) => void) {
    this.list = el('ul', { class: 'queue-list' });
    this.root = el('section', { class: 'queue', id: 'queue', 'aria-label': 'Queued generations', hidden: true }, el('h2', {}, 'Queued'), this.list);
  }

  show(jobs: readonly JobSummary[], runningJobId: number | null): void {
    const waiting = jobs.filter((j) => j.jobId !== runningJobId);
    clear(this.list);
    this.root.hidden = waiting.length === 0;
    for (const job of waiting) {
      const what = `${job.source === 'altText' ? 'Alt text: ' : job.source === 'document' ? 'Document: ' : ''}${job.prompt || '(empty prompt)'}${job.imageCount > 1 ? ` ×${job.imageCount}` : ''}`;
      const remove = el('vscode-button', { appearance: 'icon', 'aria-label': `Remove “${job.prompt}” from the queue`, title: 'Remove from the queue' }, '✕');
      remove.addEventListener('click', () => this.send({ type: 'cancel', jobId: job.jobId }));
      this.list.append(el('li', { 'data-job-id': String(job.jobId) }, el('span', {}, what), remove));
    }
  }
}
