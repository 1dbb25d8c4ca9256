// Promise-based client for worker.js.

export class ClassifierError extends Error {
  constructor(message, code) {
    super(message);
    this.name = 'ClassifierError';
    this.code = code;
  }
}

export class ClassifierClient {
  #worker;
  #pending = new Map();
  #nextId = 1;
  #stopped = null;

  // onProgress receives {phase, loaded, total, file}. onFatal receives a
  // message once the worker or the Go program has stopped for good.
  constructor(url, { onProgress = () => {}, onFatal = () => {} } = {}) {
    this.onProgress = onProgress;
    this.onFatal = onFatal;
    this.#worker = new Worker(url);
    this.#worker.onmessage = (event) => this.#receive(event.data);
    this.#worker.onerror = (event) => {
      event.preventDefault();
      const detail = event.message ? `: ${event.message}` : '';
      this.#stop(`the classifier worker (${url}) could not be started or failed${detail}`);
    };
    this.#worker.onmessageerror = () => this.#stop('a message from the classifier worker could not be read');
  }

  // call sends one request and resolves with its result. Buffers listed in
  // transfer move to the worker and are unusable here afterwards.
  call(type, args = {}, transfer = []) {
    if (this.#stopped) {
      return Promise.reject(new ClassifierError(this.#stopped, 'stopped'));
    }
    return new Promise((resolve, reject) => {
      const id = this.#nextId++;
      this.#pending.set(id, { resolve, reject });
      this.#worker.postMessage({ id, type, ...args }, transfer);
    });
  }

  #receive(message) {
    if (message.type === 'progress') {
      this.onProgress(message);
      return;
    }
    if (message.type === 'fatal') {
      this.#stop(message.message);
      return;
    }
    const pending = this.#pending.get(message.id);
    if (!pending) {
      return;
    }
    this.#pending.delete(message.id);
    if (message.ok) {
      pending.resolve(message.result);
    } else {
      pending.reject(new ClassifierError(message.error.message, message.error.code));
    }
  }

  #stop(message) {
    if (this.#stopped) {
      return;
    }
    this.#stopped = message;
    for (const { reject } of this.#pending.values()) {
      reject(new ClassifierError(message, 'stopped'));
    }
    this.#pending.clear();
    this.#worker.terminate();
    this.onFatal(message);
  }
}
