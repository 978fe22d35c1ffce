/**
 * STOW-RS response bodies (PS3.18 §10.5.3) as Azure and Orthanc send them, turned into
 * one outcome per instance.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseStowResponse, reasonText } from '../../src/dicomweb';

const STUDY = '1.2.826.0.1.3680043.8.498.13230779778012324449356534479549187420';
const SERIES = '1.2.826.0.1.3680043.8.498.45787841905473114233124723359129632652';
const SC = '1.2.840.10008.5.1.4.1.1.7';
const A = '1.2.826.0.1.3680043.8.498.47359123102728459884412887463296905395';
const B = '1.2.826.0.1.3680043.8.498.12714725698140337137334606354172323212';
const C = '1.2.826.0.1.3680043.8.498.13273713909719068980354078852867170114';
const D = '1.2.826.0.1.3680043.8.498.99999999999999999999999999999999999999';
const E = '1.2.826.0.1.3680043.8.498.88888888888888888888888888888888888888';
const SERVICE = 'https://contoso-dicom.dicom.azurehealthcareapis.com/v2';

/**
 * A body of Azure's DICOM service v2 for a 202: one stored, one stored with a warning, a
 * duplicate (45070), one that failed validation (43264, with the failed attributes) and
 * one of another study than the request's (43265).
 */
const azure202 = {
  '00081190': { vr: 'UR', Value: [`${SERVICE}/studies/${STUDY}`] },
  '00081198': {
    vr: 'SQ',
    Value: [
      {
        '00081150': { vr: 'UI', Value: [SC] },
        '00081155': { vr: 'UI', Value: [C] },
        '00081197': { vr: 'US', Value: [45070] },
      },
      {
        '00081150': { vr: 'UI', Value: [SC] },
        '00081155': { vr: 'UI', Value: [D] },
        '00081197': { vr: 'US', Value: [43264] },
        '00741048': {
          vr: 'SQ',
          Value: [
            {
              '00000902': {
                vr: 'LO',
                Value: [
                  'DICOM100: (0008,0020) - Content "NotAValidDate" does not validate VR DA: one of the date values does not match the pattern YYYYMMDD',
                ],
              },
            },
            {
              '00000902': {
                vr: 'LO',
                Value: ['DICOM100: (0010,0030) - Content "19xx" does not validate VR DA'],
              },
            },
          ],
        },
      },
      {
        '00081150': { vr: 'UI', Value: [SC] },
        '00081155': { vr: 'UI', Value: [E] },
        '00081197': { vr: 'US', Value: [43265] },
      },
    ],
  },
  '00081199': {
    vr: 'SQ',
    Value: [
      {
        '00081150': { vr: 'UI', Value: [SC] },
        '00081155': { vr: 'UI', Value: [A] },
        '00081190': {
          vr: 'UR',
          Value: [`${SERVICE}/studies/${STUDY}/series/${SERIES}/instances/${A}`],
        },
      },
      {
        '00081150': { vr: 'UI', Value: [SC] },
        '00081155': { vr: 'UI', Value: [B] },
        '00081190': {
          vr: 'UR',
          Value: [`${SERVICE}/studies/${STUDY}/series/${SERIES}/instances/${B}`],
        },
        '00081196': { vr: 'US', Value: [45063] },
        '00741048': {
          vr: 'SQ',
          Value: [{ '00000902': { vr: 'LO', Value: ['PatientName was coerced'] } }],
        },
      },
    ],
  },
};

describe('parseStowResponse on Azure bodies', () => {
  const parsed = parseStowResponse(azure202);

  it('reads the study RetrieveURL', () => {
    assert.equal(parsed?.retrieveUrl, `${SERVICE}/studies/${STUDY}`);
    assert.equal(parsed?.emptyFailedSequence, false);
  });

  it('a ReferencedSOPSequence item without WarningReason is stored, with its RetrieveURL', () => {
    assert.deepEqual(parsed?.outcomes.get(A), {
      sopInstanceUid: A,
      sopClassUid: SC,
      status: 'stored',
      retrieveUrl: `${SERVICE}/studies/${STUDY}/series/${SERIES}/instances/${A}`,
      reasonCode: undefined,
      reasonText: undefined,
      errorComments: undefined,
    });
  });

  it('a WarningReason makes it stored-with-warning, with the code, its meaning and the comments', () => {
    const outcome = parsed?.outcomes.get(B);
    assert.equal(outcome?.status, 'warning');
    assert.equal(outcome?.reasonCode, 45063);
    assert.equal(outcome?.reasonText, 'Data set does not match SOP class');
    assert.deepEqual(outcome?.errorComments, ['PatientName was coerced']);
  });

  it('FailureReason 45070 is a duplicate', () => {
    const outcome = parsed?.outcomes.get(C);
    assert.equal(outcome?.status, 'failed');
    assert.equal(outcome?.reasonCode, 45070);
    assert.match(outcome?.reasonText ?? '', /already exists/);
    assert.equal(outcome?.errorComments, undefined);
  });

  it('FailureReason 43265: the instance belongs to another study than the request', () => {
    const outcome = parsed?.outcomes.get(E);
    assert.equal(outcome?.status, 'failed');
    assert.equal(outcome?.reasonCode, 43265);
    assert.match(outcome?.reasonText ?? '', /StudyInstanceUID/);
  });

  it('FailureReason 43264 carries every ErrorComment of its FailedAttributesSequence', () => {
    const outcome = parsed?.outcomes.get(D);
    assert.equal(outcome?.status, 'failed');
    assert.equal(outcome?.reasonCode, 43264);
    assert.equal(outcome?.errorComments?.length, 2);
    assert.match(outcome?.errorComments?.[0] ?? '', /NotAValidDate/);
    assert.match(outcome?.errorComments?.[1] ?? '', /0010,0030/);
  });

  it('names exactly the five instances', () => {
    assert.deepEqual([...(parsed?.outcomes.keys() ?? [])].sort(), [A, B, C, D, E].sort());
  });

  it('accepts the body wrapped in a one-element array, and codes sent as strings', () => {
    const wrapped = parseStowResponse([
      {
        '00081198': {
          vr: 'SQ',
          Value: [
            { '00081155': { vr: 'UI', Value: [C] }, '00081197': { vr: 'US', Value: ['272'] } },
          ],
        },
      },
    ]);
    assert.equal(wrapped?.outcomes.get(C)?.reasonCode, 272);
    assert.equal(wrapped?.outcomes.get(C)?.reasonText, 'Processing failure');
  });
});

describe('parseStowResponse on Orthanc bodies', () => {
  it('an empty FailedSOPSequence (a non-DICOM part) names nobody and says so', () => {
    const parsed = parseStowResponse({
      '00080005': { Value: ['ISO_IR 100'], vr: 'CS' },
      '00081198': { vr: 'SQ' },
      '00081199': { vr: 'SQ' },
    });
    assert.equal(parsed?.outcomes.size, 0);
    assert.equal(parsed?.emptyFailedSequence, true);
  });

  it('a 409 body: the instance of another study failed with 272, the others referenced', () => {
    const parsed = parseStowResponse({
      '00080005': { Value: ['ISO_IR 100'], vr: 'CS' },
      '00081190': { Value: [`http://127.0.0.1:8042/dicom-web/studies/${STUDY}`], vr: 'UR' },
      '00081198': {
        vr: 'SQ',
        Value: [
          {
            '00081150': { vr: 'UI', Value: [SC] },
            '00081155': { vr: 'UI', Value: [D] },
            '00081197': { vr: 'US', Value: [272] },
          },
        ],
      },
      '00081199': {
        vr: 'SQ',
        Value: [
          {
            '00081150': { vr: 'UI', Value: [SC] },
            '00081155': { vr: 'UI', Value: [A] },
            '00081190': { vr: 'UR', Value: ['http://x/a'] },
          },
        ],
      },
    });
    assert.equal(parsed?.emptyFailedSequence, false);
    assert.equal(parsed?.outcomes.get(D)?.status, 'failed');
    assert.equal(parsed?.outcomes.get(D)?.reasonCode, 0x0110);
    assert.equal(parsed?.outcomes.get(A)?.status, 'stored');
  });
});

describe('parseStowResponse on what is not a STOW answer', () => {
  it('returns undefined for null, strings, numbers and empty arrays', () => {
    for (const body of [null, undefined, 'text', 42, []])
      assert.equal(parseStowResponse(body), undefined, JSON.stringify(body));
  });

  it('skips items without a SOPInstanceUID and sequences that are not arrays', () => {
    const parsed = parseStowResponse({
      '00081199': { vr: 'SQ', Value: [{}, null, { '00081155': { vr: 'UI', Value: [42] } }] },
      '00081198': { vr: 'SQ', Value: 'garbage' },
    });
    assert.equal(parsed?.outcomes.size, 0);
  });

  it('reasonText names unknown codes in hex', () => {
    assert.equal(reasonText(0xc123), 'Status 0xC123');
    assert.equal(reasonText(undefined), undefined);
  });
});
