import type { Image } from './image.ts';
import type { TestHost } from './test-host.ts';

export async function bootSelinuxVm(_image: Image, _onRegistered: (name: string) => void): Promise<TestHost> {
  throw new Error('the el9-selinux VM profile is not implemented yet');
}
