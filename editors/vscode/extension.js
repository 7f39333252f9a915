// Starts `qm lsp` for .qm files. Everything the editor shows beyond colours
// (diagnostics, hover, completion, definitions, renames, formatting, quick
// fixes, code lenses) comes from the server.
const vscode = require('vscode');
const { LanguageClient } = require('vscode-languageclient/node');

let client;

function start() {
  const config = vscode.workspace.getConfiguration('qianmian');
  const language = config.get('language', 'auto');
  const events = config.get('events', '');
  const initializationOptions = {};
  if (language !== 'auto') initializationOptions.language = language;
  if (events) initializationOptions.events = events;
  client = new LanguageClient(
    'qianmian',
    'Qianmian (qm lsp)',
    { command: config.get('server.path', 'qm'), args: ['lsp'] },
    { documentSelector: [{ scheme: 'file', language: 'qianmian' }], initializationOptions });
  return client.start();
}

async function activate(context) {
  context.subscriptions.push(vscode.workspace.onDidChangeConfiguration(async (e) => {
    if (!e.affectsConfiguration('qianmian')) return;
    if (client) await client.stop();
    await start();
  }));
  try {
    await start();
  } catch (err) {
    vscode.window.showErrorMessage(
      `Qianmian: cannot start \`${vscode.workspace.getConfiguration('qianmian').get('server.path', 'qm')} lsp\` ` +
      `(set qianmian.server.path): ${err.message}`);
  }
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
