// Image sources: file picker, drag and drop, paste and camera snapshots.

import { drawVideoFrame, showMessage } from './ui.js';

const $ = (id) => document.getElementById(id);

// wireInputs calls onFile(file, source) for each image chosen, dropped or
// pasted (source is 'file', 'drop' or 'paste') and onPixels(imageData) for
// each camera snapshot.
export function wireInputs({ onFile, onPixels }) {
  wireFileInput(onFile);
  wireDropZone(onFile);
  wirePaste(onFile);
  wireCamera(onPixels);
}

function wireFileInput(onFile) {
  const input = $('file-input');
  input.addEventListener('change', () => {
    const file = input.files && input.files[0];
    if (file) {
      onFile(file, 'file');
    }
    // Clearing the value lets the same file be chosen again.
    input.value = '';
  });
}

function wireDropZone(onFile) {
  const zone = $('drop-zone');
  let depth = 0; // dragenter and dragleave also fire for child elements

  const hasFiles = (event) => event.dataTransfer && Array.from(event.dataTransfer.types || []).includes('Files');

  // The whole page accepts drops, so that a near miss does not make the
  // browser navigate away to the dropped file.
  document.addEventListener('dragover', (event) => {
    if (hasFiles(event)) {
      event.preventDefault();
      event.dataTransfer.dropEffect = 'copy';
    }
  });
  document.addEventListener('dragenter', (event) => {
    if (hasFiles(event)) {
      depth++;
      zone.classList.add('is-dragging');
    }
  });
  document.addEventListener('dragleave', () => {
    depth = Math.max(0, depth - 1);
    if (depth === 0) {
      zone.classList.remove('is-dragging');
    }
  });
  document.addEventListener('drop', (event) => {
    depth = 0;
    zone.classList.remove('is-dragging');
    if (!event.dataTransfer) {
      return;
    }
    event.preventDefault();
    const files = Array.from(event.dataTransfer.files || []);
    if (files.length === 0) {
      showMessage('input-error', 'Nothing to classify was dropped: drop an image file, not a link or text.');
      return;
    }
    onFile(files.find((file) => file.type.startsWith('image/')) || files[0], 'drop');
  });
}

function wirePaste(onFile) {
  document.addEventListener('paste', (event) => {
    const target = event.target;
    if (target && (target.isContentEditable || ['INPUT', 'TEXTAREA'].includes(target.tagName)) && target.type !== 'file') {
      return; // leave pasting into form fields alone
    }
    const data = event.clipboardData;
    if (!data) {
      return;
    }
    let file = Array.from(data.files || []).find((f) => f.type.startsWith('image/'));
    if (!file) {
      const item = Array.from(data.items || []).find((i) => i.kind === 'file' && i.type.startsWith('image/'));
      file = item ? item.getAsFile() : null;
    }
    if (!file) {
      showMessage('input-error', 'The clipboard holds no image. Copy an image (not its address) and paste again.');
      return;
    }
    event.preventDefault();
    onFile(file, 'paste');
  });
}

function wireCamera(onPixels) {
  const start = $('camera-start');
  const snap = $('camera-snap');
  const stop = $('camera-stop');
  const video = $('camera-video');
  let stream = null;

  const showControls = (on) => {
    video.hidden = !on;
    snap.hidden = !on;
    stop.hidden = !on;
    start.hidden = on;
  };

  start.addEventListener('click', async () => {
    showMessage('input-error', '');
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      showMessage('input-error', 'This browser gives this page no camera access. Cameras need a secure page (https, or localhost and 127.0.0.1).');
      return;
    }
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' }, audio: false });
    } catch (err) {
      showMessage('input-error', cameraErrorText(err));
      return;
    }
    video.srcObject = stream;
    showControls(true);
    try {
      await video.play();
    } catch (err) {
      showMessage('input-error', `The camera stream cannot be shown: ${err.message}`);
    }
    snap.focus();
  });

  snap.addEventListener('click', () => {
    if (!stream || video.videoWidth === 0) {
      showMessage('input-error', 'The camera has not sent a picture yet. Wait a moment and try again.');
      return;
    }
    onPixels(drawVideoFrame(video, 'Camera snapshot'));
  });

  stop.addEventListener('click', () => {
    if (stream) {
      for (const track of stream.getTracks()) {
        track.stop();
      }
    }
    stream = null;
    video.srcObject = null;
    showControls(false);
    start.focus();
  });
}

function cameraErrorText(err) {
  switch (err && err.name) {
    case 'NotAllowedError':
      return 'Camera access was denied. Allow the camera for this page in the browser settings and try again.';
    case 'NotFoundError':
    case 'OverconstrainedError':
      return 'No camera was found.';
    case 'NotReadableError':
      return 'The camera is in use by another program.';
  }
  return `The camera cannot be started: ${err && err.message ? err.message : err}`;
}
