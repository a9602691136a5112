/**
 * A machine's hardware as the console reports it to the server
 * (`PUT /api/v1/machines/<mac>/inventory`) and `trowel machines show`
 * prints it. Plain JSON, so the server stores it as it came, after checks.
 */
export interface Inventory {
  /** ISO 8601, when the machine read it. */
  collectedAt: string;
  system: { vendor: string | undefined; product: string | undefined; serial: string | undefined };
  cpu: { model: string | undefined; threads: number; cores: number | undefined; sockets: number | undefined };
  memoryBytes: number;
  nics: InventoryNic[];
  disks: InventoryDisk[];
}

export interface InventoryNic {
  name: string;
  mac: string;
  /** operstate: up, down, unknown, ... (Documentation/ABI/testing/sysfs-class-net). */
  state: string;
  carrier: boolean;
  /** Mbit/s when the link is up and the driver says. */
  speedMbps: number | undefined;
  driver: string | undefined;
}

export interface InventoryDisk {
  name: string;
  model: string | undefined;
  serial: string | undefined;
  sizeBytes: number;
  transport: string;
  rotational: boolean;
}
