// The home server's monitoring play: Prometheus, Alertmanager, node_exporter, cAdvisor, Grafana; scrape jobs from the containers play's roles.
// Settings come from the inventory's `site` var, secrets from the environment (playbooks/lib/site.ts).
//
//   npx play playbooks/monitoring.ts -i inventory/miraclemax.yml --check
import { playbook } from 'hostform';
import { monitoringRoles } from './lib/site.ts';

export default playbook({ name: 'monitoring', hosts: 'homeserver', become: true, roles: [monitoringRoles()] });
