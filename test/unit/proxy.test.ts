import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { proxyForUrl } from '../../src/dicomweb/transport/proxy';

describe('proxyForUrl', () => {
  const env = {
    HTTPS_PROXY: 'http://secure-proxy:3128',
    HTTP_PROXY: 'plain-proxy:8080',
    NO_PROXY: 'internal.example.org, .corp.test,10.1.2.3,pacs.local:8443',
  };

  it('takes the environment proxy of the scheme, as curl does (a bare host:port is http://)', () => {
    assert.equal(
      proxyForUrl('https://workspace-dicom.dicom.azurehealthcareapis.com/v2', { env }),
      'http://secure-proxy:3128',
    );
    assert.equal(
      proxyForUrl('http://pacs.hospital.org/dicom-web', { env }),
      'http://plain-proxy:8080',
    );
    assert.equal(
      proxyForUrl('https://healthcare.googleapis.com/v1/x', {
        env: { https_proxy: 'http://lower:1' },
      }),
      'http://lower:1',
    );
    assert.equal(proxyForUrl('https://healthcare.googleapis.com/v1/x', { env: {} }), undefined);
  });

  it("lets an explicit proxy (VS Code's http.proxy) win over the environment", () => {
    assert.equal(
      proxyForUrl('https://a.example.com/', { proxy: 'http://user:pw@vscode-proxy:3128', env }),
      'http://user:pw@vscode-proxy:3128',
    );
    assert.equal(
      proxyForUrl('https://a.example.com/', { proxy: '  ', env }),
      'http://secure-proxy:3128',
      'an empty setting means none',
    );
  });

  it('never proxies loopback: the local server and a developer Orthanc', () => {
    for (const url of [
      'http://127.0.0.1:8042/dicom-web',
      'http://localhost:4280/dicom-web',
      'http://[::1]:8042/dicom-web',
      'http://127.8.9.1/x',
      'http://api.localhost/x',
    ]) {
      assert.equal(proxyForUrl(url, { proxy: 'http://p:1', env }), undefined, url);
    }
  });

  it('excludes NO_PROXY and http.noProxy entries: host, domain suffix, address, host:port, *', () => {
    assert.equal(proxyForUrl('https://internal.example.org/dicom-web', { env }), undefined);
    assert.equal(
      proxyForUrl('https://a.internal.example.org/dicom-web', { env }),
      undefined,
      'a subdomain',
    );
    assert.equal(
      proxyForUrl('https://notinternal.example.org/dicom-web', { env }),
      'http://secure-proxy:3128',
      'not a suffix at a dot',
    );
    assert.equal(
      proxyForUrl('https://corp.test/x', { env }),
      undefined,
      '.corp.test covers corp.test itself',
    );
    assert.equal(proxyForUrl('http://10.1.2.3/x', { env }), undefined);
    assert.equal(proxyForUrl('https://pacs.local:8443/x', { env }), undefined, 'the port matches');
    assert.equal(
      proxyForUrl('https://pacs.local/x', { env }),
      'http://secure-proxy:3128',
      'another port',
    );
    assert.equal(
      proxyForUrl('https://a.example.com/', { env, noProxy: ['example.com'] }),
      undefined,
      'http.noProxy',
    );
    assert.equal(
      proxyForUrl('https://a.example.com/', {
        env: { ...env, no_proxy: '*', NO_PROXY: undefined },
      }),
      undefined,
      '* covers all',
    );
  });

  it('ignores what is not a proxy URL', () => {
    assert.equal(proxyForUrl('https://a.example.com/', { proxy: 'ftp://p:21' }), undefined);
    assert.equal(proxyForUrl('https://a.example.com/', { proxy: 'http://[bad' }), undefined);
    assert.equal(proxyForUrl('not a url', { proxy: 'http://p:1' }), undefined);
    assert.equal(
      proxyForUrl('https://a.example.com/', { proxy: 'socks5://s:1080' }),
      'socks5://s:1080',
    );
  });
});
