'use client';
import { DestinationForm } from '@/components/forms/DestinationForm';
import { ServiceForm } from '@/components/forms/ServiceForm';
import { demoWrite } from '@/components/demo/useDemo';
import { Panel } from '@/components/ui/Panel';

export default function DemoForms() {
  return (
    <div className="grid gap-4 xl:grid-cols-2">
      <Panel title="Add virtual service"><ServiceForm onSubmit={demoWrite} onCancel={() => {}} disabledReason={null} /></Panel>
      <Panel title="Add real server"><DestinationForm family="inet" initial={{ address: '', port: '80', forward: 'tun', weight: '1', upperThreshold: '0', lowerThreshold: '0', tunnelType: 'gue', tunnelPort: '0', tunnelChecksum: 'nocsum' }} onSubmit={demoWrite} onCancel={() => {}} disabledReason={null} /></Panel>
    </div>
  );
}
