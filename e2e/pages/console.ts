/**
 * Page objects for the Director console, with role-based locators, for the
 * end-to-end specs against the lab (coordinated by the lead).
 */
import type { Locator, Page } from 'playwright-core';

export class LoginPage {
  constructor(readonly page: Page) {}
  readonly username = () => this.page.getByLabel('Username');
  readonly password = () => this.page.getByLabel('Password');
  readonly submit = () => this.page.getByRole('button', { name: 'Sign in' });
  async signIn(user: string, password: string): Promise<void> {
    await this.page.goto('/login');
    await this.username().fill(user);
    await this.password().fill(password);
    await this.submit().click();
    await this.page.waitForURL((u) => !u.pathname.startsWith('/login'));
  }
}

export class Shell {
  constructor(readonly page: Page) {}
  readonly director = () => this.page.getByRole('combobox', { name: 'Director' });
  readonly live = () => this.page.getByRole('status').filter({ hasText: /Live|Reconnecting|Connecting|Offline/ });
  readonly nav = (name: 'Overview' | 'Connections' | 'Snapshots' | 'Lab') => this.page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name });
  readonly themeToggle = () => this.page.getByRole('button', { name: /Switch to (dark|light) mode/ });
  readonly signOut = () => this.page.getByRole('button', { name: 'Sign out' });
}

export class OverviewPage {
  constructor(readonly page: Page) {}
  readonly addService = () => this.page.getByRole('button', { name: 'Add service' });
  /** A service row by its address text, e.g. "192.168.150.100:80" or "fwmark 7". */
  readonly row = (address: string): Locator => this.page.getByRole('row').filter({ has: this.page.getByRole('link', { name: address, exact: true }) });
  readonly open = (address: string) => this.page.getByRole('link', { name: address, exact: true }).click();
}

export class ServiceFormDialog {
  constructor(readonly page: Page) {}
  readonly dialog = () => this.page.getByRole('dialog');
  readonly field = (label: string) => this.dialog().getByLabel(label, { exact: true });
  readonly submit = () => this.dialog().getByRole('button', { name: /^(Add|Save) (service|real server)$/ });
  readonly errorFor = (label: string) => this.field(label).locator('xpath=..').getByRole('alert');
}

export class ServicePage {
  constructor(readonly page: Page) {}
  readonly addRealServer = () => this.page.getByRole('button', { name: 'Add real server' });
  readonly realServers = () => this.page.getByRole('table', { name: 'Real servers' });
  // scoped to the table: the chart's legend is a table with a row per real server too
  readonly realServerRow = (hostPort: string) => this.realServers().getByRole('row').filter({ hasText: hostPort });
  readonly weightCell = (hostPort: string) => this.realServerRow(hostPort).getByRole('cell').nth(2);
  readonly scheduler = () => this.page.getByLabel('Scheduler', { exact: true });
  readonly applyScheduling = () => this.page.getByRole('button', { name: 'Apply' });
  readonly graph = () => this.page.getByRole('img', { name: /Per-server .* over the last 15 minutes/ });
  readonly deleteService = () => this.page.getByRole('button', { name: 'Delete service' });
}

export class ConnectionsPage {
  constructor(readonly page: Page) {}
  readonly table = () => this.page.getByRole('table', { name: 'Connection entries' });
  readonly rows = () => this.table().getByRole('row');
  readonly stateFilter = () => this.page.getByLabel('State');
  readonly synRecvAlerts = () => this.page.getByRole('alert').filter({ hasText: 'SYN_RECV piling up' });
}

export class SnapshotsPage {
  constructor(readonly page: Page) {}
  readonly exportText = () => this.page.getByLabel('Snapshot text', { exact: true }).first();
  readonly importText = () => this.page.getByRole('textbox', { name: 'Snapshot text' });
  readonly showPlan = () => this.page.getByRole('button', { name: 'Show plan' });
  readonly applyPlan = () => this.page.getByRole('button', { name: /^Apply \d+ change/ });
  readonly failure = () => this.page.getByRole('alert').filter({ hasText: /could not be read|kernel refused/ });
  readonly undo = () => this.page.getByRole('button', { name: 'Undo' });
}
