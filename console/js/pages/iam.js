// IAM: customer managed policies (create from JSON, with IAM's own
// validation errors), users, attaching policies, access keys (the secret
// shown once and offered as a CSV download, as AWS does), deactivate,
// delete; "can this user do this?" (SimulatePrincipalPolicy), naming the
// statement that decided.
import { xmlAll, xmlChildren, xmlText } from '../aws.js';
import { t } from '../i18n.js';
import { h, clear, attempt, errorBox, formatTime, field, table, pageHeader, download, submitOnCtrlEnter } from '../ui.js';

const HANDSON_POLICY = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{
    Sid: 'VisualEditor0', Effect: 'Allow', Action: ['iot:Connect', 'iot:Publish'],
    Resource: ['arn:aws:iot:ap-northeast-1:*:topic/handson/*', 'arn:aws:iot:*:*:client/*'],
  }],
}, null, 4);

const MANAGED = ['AdministratorAccess', 'AmazonS3FullAccess', 'AmazonS3ReadOnlyAccess', 'AWSIoTDataAccess',
  'AWSIoTFullAccess', 'AmazonKinesisFirehoseFullAccess', 'IAMFullAccess'];

export async function render(ctx) {
  const { aws, main } = ctx;
  const status = h('div', { class: 'status', id: 'iam-status' });
  const policies = h('div', { id: 'policies' });
  const users = h('div', { id: 'users' });
  const userDetail = h('div', { id: 'user-detail' });
  let localPolicies = [];

  async function loadPolicies() {
    try {
      const doc = await aws.iam('ListPolicies', { Scope: 'Local', MaxItems: '1000' });
      localPolicies = xmlAll(doc, 'member').map((m) => ({
        name: xmlText(m, 'PolicyName'), arn: xmlText(m, 'Arn'), created: xmlText(m, 'CreateDate'),
        attachments: xmlText(m, 'AttachmentCount'),
      }));
    } catch (error) {
      clear(policies).append(errorBox(error));
      return;
    }
    clear(policies).append(table([t('name'), 'ARN', t('iam.attachments'), t('created'), ''], localPolicies.map((p) =>
      h('tr', { 'data-policy': p.name },
        h('td', {}, p.name), h('td', { class: 'small' }, h('code', {}, p.arn)), h('td', {}, p.attachments), h('td', {}, formatTime(p.created)),
        h('td', {}, h('button', {
          class: 'danger small', 'data-action': 'delete-policy',
          onclick: async () => {
            if (!confirm(t('iam.confirmDeletePolicy', p.name))) return;
            if (await attempt(status, () => aws.iam('DeletePolicy', { PolicyArn: p.arn }), t('iam.policyDeleted', p.name))) loadPolicies();
          },
        }, t('delete'))))), t('iam.noPolicies')));
    fillPolicyChoices(userPolicy);
  }

  async function loadUsers() {
    let list;
    try {
      list = xmlAll(await aws.iam('ListUsers', { MaxItems: '1000' }), 'member');
    } catch (error) {
      clear(users).append(errorBox(error));
      return;
    }
    fillSimulateUsers(list.map((m) => ({ name: xmlText(m, 'UserName'), arn: xmlText(m, 'Arn') })));
    clear(users).append(table([t('iam.userName'), 'ARN', t('created')], list.map((m) => {
      const name = xmlText(m, 'UserName');
      return h('tr', { 'data-user': name },
        h('td', {}, h('button', { class: 'link', onclick: () => showUser(name) }, name)),
        h('td', { class: 'small' }, h('code', {}, xmlText(m, 'Arn'))), h('td', {}, formatTime(xmlText(m, 'CreateDate'))));
    }), t('iam.noUsers')));
  }

  // --- create policy -------------------------------------------------
  const policyName = h('input', { id: 'policy-name', required: true, spellcheck: 'false', placeholder: 'yamada_iot_publish_policy' });
  const policyDescription = h('input', { id: 'policy-description' });
  const policyDocument = submitOnCtrlEnter(h('textarea', { id: 'policy-document', rows: 16, spellcheck: 'false' }, HANDSON_POLICY));
  const policyStatus = h('div', { class: 'status', id: 'policy-status' });
  const policyForm = h('form', {
    class: 'card', id: 'create-policy',
    onsubmit: async (event) => {
      event.preventDefault();
      // The document goes as typed: IAM itself says what is wrong with it.
      const ok = await attempt(policyStatus, () => aws.iam('CreatePolicy', {
        PolicyName: policyName.value.trim(), PolicyDocument: policyDocument.value,
        Description: policyDescription.value || undefined,
      }), t('iam.policyCreated', policyName.value.trim()));
      if (ok) loadPolicies();
    },
  }, h('h2', {}, t('iam.createPolicy')), field(t('name'), policyName), field(t('iam.description'), policyDescription),
  field('JSON', policyDocument, t('iam.policyHint')),
  h('button', { type: 'submit', class: 'primary', id: 'create-policy-submit' }, t('iam.createPolicy')), policyStatus);

  // --- create user ---------------------------------------------------
  const userName = h('input', { id: 'user-name', required: true, spellcheck: 'false', placeholder: 'yamada_iot_publish_user' });
  const userPolicy = h('select', { id: 'user-policy' });
  const userStatus = h('div', { class: 'status', id: 'user-status' });
  const fillPolicyChoices = (select) => {
    clear(select).append(h('option', { value: '' }, t('iam.noPolicy')),
      h('optgroup', { label: t('iam.customerManaged') }, localPolicies.map((p) => h('option', { value: p.arn }, p.name))),
      h('optgroup', { label: t('iam.awsManaged') }, MANAGED.map((n) => h('option', { value: `arn:aws:iam::aws:policy/${n}` }, n))));
  };
  const userForm = h('form', {
    class: 'card', id: 'create-user',
    onsubmit: async (event) => {
      event.preventDefault();
      const name = userName.value.trim();
      const ok = await attempt(userStatus, async () => {
        await aws.iam('CreateUser', { UserName: name });
        if (userPolicy.value) await aws.iam('AttachUserPolicy', { UserName: name, PolicyArn: userPolicy.value });
        return true;
      }, t('iam.userCreated', name));
      if (ok !== undefined) { loadUsers(); loadPolicies(); showUser(name); }
    },
  }, h('h2', {}, t('iam.createUser')), field(t('iam.userName'), userName), field(t('iam.attachPolicy'), userPolicy),
  h('button', { type: 'submit', class: 'primary', id: 'create-user-submit' }, t('iam.createUser')), userStatus);

  async function showUser(name) {
    clear(userDetail).append(h('p', { class: 'muted' }, t('loading')));
    const detailStatus = h('div', { class: 'status', id: 'user-detail-status' });
    const secretBox = h('div', { id: 'new-key' });
    let attached;
    let keys;
    try {
      attached = xmlAll(await aws.iam('ListAttachedUserPolicies', { UserName: name }), 'member')
        .map((m) => ({ name: xmlText(m, 'PolicyName'), arn: xmlText(m, 'PolicyArn') }));
      keys = xmlAll(await aws.iam('ListAccessKeys', { UserName: name }), 'member')
        .map((m) => ({ id: xmlText(m, 'AccessKeyId'), status: xmlText(m, 'Status'), created: xmlText(m, 'CreateDate') }));
    } catch (error) {
      clear(userDetail).append(errorBox(error));
      return;
    }
    const attach = h('select', { id: 'attach-policy' });
    fillPolicyChoices(attach);
    const again = () => showUser(name);
    clear(userDetail).append(h('section', { class: 'card', 'data-user-detail': name },
      h('div', { class: 'page-header' }, h('h2', {}, name), h('div', { class: 'actions' },
        h('button', {
          class: 'danger', id: 'delete-user',
          onclick: async () => {
            if (!confirm(t('iam.confirmDeleteUser', name))) return;
            // As AWS's console: its keys and attachments go first.
            const ok = await attempt(detailStatus, async () => {
              for (const k of keys) await aws.iam('DeleteAccessKey', { UserName: name, AccessKeyId: k.id });
              for (const p of attached) await aws.iam('DetachUserPolicy', { UserName: name, PolicyArn: p.arn });
              await aws.iam('DeleteUser', { UserName: name });
              return true;
            }, t('iam.userDeleted', name));
            if (ok !== undefined) { clear(userDetail).append(detailStatus); loadUsers(); loadPolicies(); }
          },
        }, t('iam.deleteUser')))),
      detailStatus,
      h('h3', {}, t('iam.permissions')),
      table([t('name'), 'ARN', ''], attached.map((p) => h('tr', { 'data-attached': p.name },
        h('td', {}, p.name), h('td', { class: 'small' }, h('code', {}, p.arn)),
        h('td', {}, h('button', { class: 'small', onclick: async () => {
          if (await attempt(detailStatus, () => aws.iam('DetachUserPolicy', { UserName: name, PolicyArn: p.arn }))) again();
        } }, t('iam.detach'))))), t('iam.noAttached')),
      h('div', { class: 'row' }, field(t('iam.attachPolicy'), attach),
        h('button', { id: 'attach-policy-submit', onclick: async () => {
          if (!attach.value) return;
          if (await attempt(detailStatus, () => aws.iam('AttachUserPolicy', { UserName: name, PolicyArn: attach.value }))) { again(); loadPolicies(); }
        } }, t('iam.attach'))),
      h('h3', {}, t('iam.accessKeys')),
      table([t('iam.accessKeyId'), t('status'), t('created'), ''], keys.map((k) => h('tr', { 'data-key-id': k.id },
        h('td', {}, h('code', {}, k.id)), h('td', {}, k.status), h('td', {}, formatTime(k.created)),
        h('td', { class: 'actions' },
          h('button', { class: 'small', onclick: async () => {
            const next = k.status === 'Active' ? 'Inactive' : 'Active';
            if (await attempt(detailStatus, () => aws.iam('UpdateAccessKey', { UserName: name, AccessKeyId: k.id, Status: next }))) again();
          } }, k.status === 'Active' ? t('iam.deactivate') : t('iam.activate')),
          h('button', { class: 'danger small', onclick: async () => {
            if (!confirm(t('iam.confirmDeleteKey', k.id))) return;
            if (await attempt(detailStatus, () => aws.iam('DeleteAccessKey', { UserName: name, AccessKeyId: k.id }))) again();
          } }, t('delete'))))), t('iam.noKeys')),
      h('button', { id: 'create-access-key', onclick: async () => {
        const doc = await attempt(detailStatus, () => aws.iam('CreateAccessKey', { UserName: name }));
        if (!doc) return;
        const id = xmlText(doc, 'AccessKeyId');
        const secret = xmlText(doc, 'SecretAccessKey');
        await showUser(name);
        const box = document.getElementById('new-key');
        clear(box).append(h('div', { class: 'alert success secret' },
          h('strong', {}, t('iam.keyCreated')), h('p', {}, t('iam.secretOnce')),
          h('dl', { class: 'props' },
            h('dt', {}, t('iam.accessKeyId')), h('dd', {}, h('code', { id: 'new-access-key-id' }, id)),
            h('dt', {}, t('iam.secretAccessKey')), h('dd', {}, h('code', { id: 'new-secret-access-key' }, secret))),
          h('button', { id: 'download-csv', onclick: () => download(`${name}_accessKeys.csv`,
            new Blob([`Access key ID,Secret access key\n${id},${secret}\n`], { type: 'text/csv' })) }, t('iam.downloadCsv'))));
      } }, t('iam.createAccessKey')),
      secretBox));
  }

  // --- can this user do this? (SimulatePrincipalPolicy) ---------------
  const simulateUser = h('select', { id: 'simulate-user' });
  const simulateAction = h('input', { id: 'simulate-action', required: true, spellcheck: 'false', value: 'iot:Publish' });
  const simulateResource = h('input', { id: 'simulate-resource', spellcheck: 'false' });
  const simulateResult = h('div', { id: 'simulate-result' });
  function fillSimulateUsers(list) {
    const chosen = simulateUser.value;
    clear(simulateUser).append(...list.map((u) => h('option', { value: u.arn }, u.name)));
    if (list.some((u) => u.arn === chosen)) simulateUser.value = chosen;
    if (!simulateResource.value && list.length) {
      // The hands-on's topic, in the users' account and this region.
      const account = list[0].arn.split(':')[4];
      simulateResource.value = `arn:aws:iot:${ctx.region}:${account}:topic/handson/analysisLogData`;
    }
  }
  const simulateForm = h('form', {
    class: 'card', id: 'simulate',
    onsubmit: async (event) => {
      event.preventDefault();
      const arn = simulateUser.value;
      const userName = arn.split('/').pop();
      const action = simulateAction.value.trim();
      const resource = simulateResource.value.trim();
      clear(simulateResult).append(h('p', { class: 'muted' }, t('loading')));
      const doc = await attempt(simulateResult, () => aws.iam('SimulatePrincipalPolicy', {
        PolicySourceArn: arn, 'ActionNames.member.1': action, 'ResourceArns.member.1': resource || undefined,
      }));
      if (!doc) return;
      const result = xmlAll(doc, 'EvaluationResults')[0] && xmlChildren(xmlAll(doc, 'EvaluationResults')[0], 'member')[0];
      if (!result) return;
      const decision = xmlText(result, 'EvalDecision');
      const matched = xmlChildren(xmlChildren(result, 'MatchedStatements')[0] || result, 'member').map((m) => ({
        id: xmlText(m, 'SourcePolicyId'), type: xmlText(m, 'SourcePolicyType'),
        start: { line: +xmlText(xmlChildren(m, 'StartPosition')[0] || m, 'Line'), column: +xmlText(xmlChildren(m, 'StartPosition')[0] || m, 'Column') },
        end: { line: +xmlText(xmlChildren(m, 'EndPosition')[0] || m, 'Line'), column: +xmlText(xmlChildren(m, 'EndPosition')[0] || m, 'Column') },
      }));
      const missing = [...new Set(xmlAll(result, 'MissingContextValues').flatMap((list) => xmlChildren(list, 'member').map((k) => k.textContent)))];
      for (const statement of matched) statement.sid = await statementSid(userName, statement);
      const kind = decision === 'allowed' ? 'success' : 'error';
      clear(simulateResult).append(h('div', { class: `alert ${kind}`, role: 'status', 'data-decision': decision },
        h('strong', { class: 'decision' }, t(`iam.sim.${decision}`)), ' ',
        h('span', {}, t('iam.sim.question', userName, action, resource || '*')),
        matched.length
          ? h('ul', { class: 'matched' }, matched.map((m) => h('li', { 'data-policy': m.id, 'data-sid': m.sid || '' },
            t(decision === 'allowed' ? 'iam.sim.allowedBy' : 'iam.sim.deniedBy'), ' ',
            h('strong', {}, m.id), ` (${t(`iam.sim.type.${m.type}`)})`, ', ',
            m.sid ? t('iam.sim.sid', m.sid) : '', m.sid ? ', ' : '',
            t('iam.sim.position', m.start.line, m.start.column, m.end.line, m.end.column))))
          : h('p', { class: 'matched' }, t('iam.sim.noStatement')),
        missing.length ? h('p', { class: 'missing small' }, t('iam.sim.missing', missing.join(', '))) : ''));
    },
  }, h('h2', {}, t('iam.sim.title')), h('p', { class: 'muted' }, t('iam.sim.hint')),
  field(t('iam.userName'), simulateUser), field(t('iam.sim.action'), simulateAction), field(t('iam.sim.resource'), simulateResource),
  h('button', { type: 'submit', class: 'primary', id: 'simulate-submit' }, t('iam.sim.submit')), simulateResult);

  // The Sid of the statement at `m`'s place in its policy's text, when it
  // has one: the simulator names policies and positions, not statements.
  async function statementSid(userName, m) {
    try {
      let text;
      if (m.type === 'user') {
        text = xmlText(await aws.iam('GetUserPolicy', { UserName: userName, PolicyName: m.id }), 'PolicyDocument');
      } else if (m.type === 'user-managed' || m.type === 'aws-managed') {
        const arn = m.type === 'aws-managed' ? `arn:aws:iam::aws:policy/${m.id}` : localPolicies.find((p) => p.name === m.id)?.arn;
        if (!arn) return '';
        text = xmlText(await aws.iam('GetPolicyVersion', { PolicyArn: arn, VersionId: 'v1' }), 'Document');
      } else {
        return '';
      }
      const lines = decodeURIComponent(text.replace(/\+/g, ' ')).split('\n');
      const chars = (line) => Array.from(lines[line - 1] || '');
      let body;
      if (m.start.line === m.end.line) {
        body = chars(m.start.line).slice(m.start.column - 1, m.end.column - 1).join('');
      } else {
        body = [chars(m.start.line).slice(m.start.column - 1).join(''), ...lines.slice(m.start.line, m.end.line - 1),
          chars(m.end.line).slice(0, m.end.column - 1).join('')].join('\n');
      }
      return JSON.parse(body).Sid || '';
    } catch {
      return '';  // a policy the caller may not read: the position still names it
    }
  }

  main.append(pageHeader(t('iam.title'), h('button', { onclick: () => { loadPolicies(); loadUsers(); } }, t('refresh'))), status,
    h('h2', {}, t('iam.policies')), policies, policyForm,
    h('h2', {}, t('iam.users')), users, userForm, userDetail, simulateForm);
  await loadPolicies();
  await loadUsers();
}
