// The peer transport of one replica: Raft messages to and from the other masters over
// WebSocket (DESIGN.md, "Transport"). It is the shell around the pure core, so it may read the
// clock, set timers and draw from Math.random; it knows nothing of terms or roles and never
// retries a message: Raft tolerates loss, and a message retried late is worse than one dropped.
//
// One socket per peer pair, used in both directions. The replica whose id sorts lower (plain
// string order, the same on every replica) dials; the other accepts. Two dialing sides would
// race into two sockets per pair, and a socket per direction doubles the sockets for nothing.
// The dialer proves membership with the cluster secret in the handshake headers; the acceptor
// compares digests in constant time and refuses before any WebSocket is made.
//
// This class owns no port: the master's one HTTP server hands it upgrades for RAFT_PATH.
// With TLS (the master's --tls-*), it dials wss:// trusting the cluster CA and presenting this
// replica's certificate; with mutual TLS each side also checks that the other's certificate
// names the peer id it claims (the acceptor: the dialer's client certificate; the dialer: the
// server's), so a stolen secret alone no longer makes a member.
//
// Races, and what prevents each:
// 1. A dialer restarts and its new socket arrives while the acceptor still holds the old one
//    (the host rebooted, no FIN was seen). The acceptor replaces the old socket. The old one's
//    late 'close' must not clear or redial the new one: every handler checks
//    `peer.socket === socket` before touching the peer.
// 2. setPeers removes or re-addresses a peer while a dial is in flight. The handshake may still
//    complete for a PeerState that is no longer in the map: handlers check
//    `this.peers.get(peer.id) === peer`, and a stale socket is cut.
// 3. close() while a reconnect timer is pending or a handshake is in flight: timers are
//    cleared, sockets closed, and no handler redials once `closed` is set.
// 4. This process holds its event loop past a keepalive interval (a long turn, a loaded
//    machine): the peer's pong arrives in time but waits unread in the kernel. The overdue
//    interval timer runs in the timers phase, before the poll phase reads that pong, and cut a
//    healthy socket; the follower on the other end took the close as its leader lost and
//    campaigned at once (issue 12: leader changes during a 5,000-agent launch, each after
//    "raft peer missed a pong"). So the timer only schedules the check, and the check runs in
//    the check phase (setImmediate), after the poll phase has read what arrived meanwhile.
import { maxFrameBytes } from './limits.ts';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import WebSocket, { WebSocketServer } from 'ws';
import { backoffDelayMs } from '../util/backoff.ts';
import {
  decodeMessages,
  encodedMessageBytes,
  encodeMessages,
  frameFormatVersion,
  oldestFrameFormatVersion,
} from './codec.ts';
import { nodeId, type Message, type NodeId } from './types.ts';
import { SecretCheck, secretHeader } from '../util/shared-secret.ts';
import { refuseUpgrade } from '../util/refuse-upgrade.ts';
import { certificateNames, verifyClientCertificate } from '../util/tls.ts';
import { checkServerIdentity, type PeerCertificate } from 'node:tls';

/**
 * The key a dialer masks its frames with: all zeros, which ws recognises on both ends and skips
 * (no copy and XOR of every payload when sending, none when receiving: 1-2% of a busy leader's
 * time, issue 19). Masking (RFC 6455 §10.3) guards proxies against a browser script's crafted
 * bytes; a Raft peer is no browser and its frames carry only encoded messages.
 */
function unmaskedFrames(mask: Buffer): void {
  mask.fill(0);
}

/** The upgrade path the master's HTTP server routes to handleUpgrade. */
export const RAFT_PATH = '/raft';
/** Handshake headers (lower case: Node lower-cases incoming header names). */
export const NODE_HEADER = 'x-flotilla-node';
export const SECRET_HEADER = secretHeader;
/**
 * The newest Raft frame format the sender reads, in the dial and in its answer; each side writes
 * the older of the two versions on that socket. A replica of a build before this header sends
 * none and is written format 1: a rolling upgrade keeps replicating across the format change.
 */
export const FRAME_FORMAT_HEADER = 'x-flotilla-raft-frame-format';
/**
 * The newest format of the replicated application's entries (the state machine's commands) the
 * sender reads, in the dial and in its answer. Raft carries entries as bytes; the application
 * reads these numbers to write only what every replica reads (a rolling upgrade). A build before
 * this header sends none: its peers record null.
 */
export const APPLICATION_FORMAT_HEADER = 'x-flotilla-application-format';
/**
 * The newest state snapshot format a replica reads. InstallSnapshot ships a snapshot's stored
 * bytes as they are, so a replica writes a newer format only once every member named it here
 * (state-machine/snapshot.ts); a build before this header sends none.
 */
export const SNAPSHOT_FORMAT_HEADER = 'x-flotilla-snapshot-format';
/**
 * The UDP port of the sender's liveness beacon (beacon.ts), on the host of its Raft address. A
 * replica that names none (an older build, or the beacon off) is sent no beacon.
 */
export const BEACON_HEADER = 'x-flotilla-raft-beacon';

export interface TransportLimits {
  /** Bytes queued on one peer's socket above which send() drops instead of queueing more. */
  readonly maxBufferedBytes: number;
  /** Largest frame received (ws maxPayload) and sent: bigger batches are cut into several
   * frames, a single bigger message is dropped. Must be equal on every replica, or a frame one
   * accepts to send the other closes the connection over (1009). At most codec maxFrameBytes. */
  readonly maxPayloadBytes: number;
  /** Window of the first reconnect delay; doubles per failed dial up to reconnectMaxMs. */
  readonly reconnectBaseMs: number;
  readonly reconnectMaxMs: number;
  /** A ping goes out every interval; a peer that sent nothing back over a whole interval is cut,
   * so a dead peer is noticed within two intervals. */
  readonly keepaliveIntervalMs: number;
  /** A dial whose WebSocket handshake has not completed by then fails and is retried. */
  readonly handshakeTimeoutMs: number;
  /** close(): how long a peer gets to answer the close handshake before the socket is cut. */
  readonly closeGraceMs: number;
}

export const defaultTransportLimits: TransportLimits = Object.freeze({
  maxBufferedBytes: 64 * 1024 * 1024,
  maxPayloadBytes: 64 * 1024 * 1024,
  reconnectBaseMs: 50,
  reconnectMaxMs: 2_000,
  keepaliveIntervalMs: 1_000,
  handshakeTimeoutMs: 5_000,
  closeGraceMs: 1_000,
});

/** Pino-compatible: the master passes a child logger that already carries the node id. */
export interface TransportLogger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

/** The master's TLS identity as the transport uses it (src/util/tls.ts TlsIdentity). */
export interface PeerTransportTls {
  /** CA, certificate and key for one dial, read at each dial so a reload (SIGHUP) applies. */
  clientOptions(): { ca: Buffer; cert: Buffer; key: Buffer };
  /** Mutual TLS: a peer's certificate must name its node id. */
  readonly requireClientCert: boolean;
}

export interface PeerTransportOptions {
  readonly self: NodeId;
  /** null or absent: plain ws://. */
  readonly tls?: PeerTransportTls | null;
  /** The shared cluster secret; a dialer without it is refused. */
  readonly secret: string;
  /** Called with the messages of one received frame, in frame order, all to `self` from one peer. */
  readonly onMessages: (messages: Message[]) => void;
  readonly logger: TransportLogger;
  readonly limits?: Partial<TransportLimits>;
  /**
   * True while this replica knows no member (a joiner before the leader's log reaches it): it
   * then accepts any authenticated replica that dials it. Scenario: m8 joins with --peers
   * naming the members it was told of; the leader by then is m7, added later; m7 dials m8
   * (lower id dials) and, refused as "not a current peer", could never send m8 the log that
   * names it — the join hung until ADD_MASTER timed out.
   */
  readonly acceptsUnknownPeers?: () => boolean;
  /**
   * An open connection to `peer` closed (its process exited, crashed or cut it; or the keepalive
   * found it dead). Not called for failed dials nor for a socket replaced by a newer one.
   */
  readonly onPeerDisconnected?: (peer: NodeId) => void;
  /**
   * The newest frame format this replica reads and writes (default: the codec's newest). Only a
   * test sets it lower, to stand in for a replica of an older build.
   */
  readonly frameFormat?: number;
  /** The newest application entry format this replica reads, sent at the handshake (absent: none sent). */
  readonly applicationFormat?: number;
  /** The newest state snapshot format this replica reads, sent at the handshake (absent: none sent). */
  readonly snapshotFormat?: number;
  /** This replica's beacon port, read at each handshake (absent or null: none named). */
  readonly beaconPort?: () => number | null;
}

export interface PeerStats {
  readonly connected: boolean;
  readonly sentFrames: number;
  readonly sentMessages: number;
  /** Given to send() for this peer but not sent: no open socket, back-pressure, or too large. */
  readonly droppedMessages: number;
  /** Every frame received, including the undecodable ones. */
  readonly receivedFrames: number;
  /** Delivered to onMessages. */
  readonly receivedMessages: number;
  /** Decoded but refused: not addressed to this replica, or not from the authenticated peer. */
  readonly rejectedMessages: number;
  readonly undecodableFrames: number;
}

export interface TransportStats {
  /** By peer id, for every current peer. */
  readonly peers: Readonly<Record<string, PeerStats>>;
  /** Messages given to send() for a node that is not a current peer. */
  readonly droppedToUnknownPeers: number;
}

type Counters = { -readonly [Key in Exclude<keyof PeerStats, 'connected'>]: number };

interface PeerState {
  readonly id: NodeId;
  address: string;
  /** This replica dials this peer (its own id sorts lower), else it waits to be dialed. */
  readonly dialer: boolean;
  /** The one socket of the pair: CONNECTING while a dial is in flight, then OPEN; null between. */
  socket: WebSocket | null;
  reconnectTimer: NodeJS.Timeout | null;
  failedDials: number;
  /** Anything (a pong or a frame) arrived since the last ping; still false at the next ping means dead. */
  heardSinceLastPing: boolean;
  /** An outage was logged already: a down peer logs once per outage, not once per retry. */
  outageLogged: boolean;
  /** What its last handshake said of the application format it reads: undefined before one, null if unsaid. */
  applicationFormat: number | null | undefined;
  /** The same for the snapshot format it reads. */
  snapshotFormat: number | null | undefined;
  /** The beacon port its last handshake named; null if none. */
  beaconPort: number | null;
  readonly counters: Counters;
}

type HandshakeVerdict =
  | { readonly accepted: true; readonly peer: PeerState }
  | { readonly accepted: false; readonly status: 400 | 401 | 403 | 409 | 503; readonly reason: string };

/** A refused dialer may retry in a tight loop; one warning per interval is enough to act on. */
const refusalLogIntervalMs = 1_000;

/** A format number named in a handshake header; null when absent or not a small number. */
function namedFormat(header: string | string[] | undefined): number | null {
  return typeof header === 'string' && /^[0-9]{1,3}$/.test(header) ? Number(header) : null;
}

/** A UDP port named in a handshake header; null when absent or not a port. */
function namedPort(header: string | string[] | undefined): number | null {
  if (typeof header !== 'string' || !/^[0-9]{1,5}$/.test(header)) return null;
  const port = Number(header);
  return port >= 1 && port <= 65_535 ? port : null;
}
/** RFC 6455 §7.4.1: "going away", e.g. a server going down. */
const closeCodeGoingAway = 1001;

export class PeerTransport {
  private readonly self: NodeId;
  private readonly secret: string;
  private readonly secretCheck: SecretCheck;
  private readonly tls: PeerTransportTls | null;
  private readonly onMessages: (messages: Message[]) => void;
  private readonly acceptsUnknownPeers: () => boolean;
  private readonly onPeerDisconnected: (peer: NodeId) => void;
  private readonly logger: TransportLogger;
  private readonly limits: TransportLimits;
  private readonly peers = new Map<NodeId, PeerState>();
  /** Sockets that completed their handshake, to tell a failed dial from a lost connection. */
  private readonly attachedSockets = new WeakSet<WebSocket>();
  /** The frame format agreed at each socket's handshake: the older of the two sides' newest. */
  private readonly socketFrameFormats = new WeakMap<WebSocket, number>();
  private readonly frameFormat: number;
  /** The application format each socket's peer named at its handshake (null: it named none). */
  private readonly socketApplicationFormats = new WeakMap<WebSocket, number | null>();
  private readonly applicationFormat: number | null;
  /** The snapshot format each socket's peer named at its handshake (null: it named none). */
  private readonly socketSnapshotFormats = new WeakMap<WebSocket, number | null>();
  private readonly snapshotFormat: number | null;
  /** The beacon port each socket's peer named at its handshake. */
  private readonly socketBeaconPorts = new WeakMap<WebSocket, number | null>();
  private readonly beaconPort: () => number | null;
  private readonly server: WebSocketServer;
  private readonly keepaliveTimer: NodeJS.Timeout;
  /** The keepalive check the timer scheduled, after the pending input is read (race 4). */
  private keepaliveCheck: NodeJS.Immediate | null = null;
  /** Set first thing in close(): from then on nothing dials, sends or delivers. */
  private closed = false;
  private closing: Promise<void> | null = null;
  private droppedToUnknownPeers = 0;
  private refusalLoggedAtMs = -Infinity;
  private refusalsSuppressed = 0;

  constructor(options: PeerTransportOptions) {
    if (options.self === '') throw new Error('raft transport: self must be a non-empty node id');
    if (options.secret === '') throw new Error('raft transport: the cluster secret must not be empty');
    this.self = options.self;
    this.secret = options.secret;
    this.secretCheck = new SecretCheck(options.secret);
    this.tls = options.tls ?? null;
    this.onMessages = options.onMessages;
    this.acceptsUnknownPeers = options.acceptsUnknownPeers ?? (() => false);
    this.onPeerDisconnected = options.onPeerDisconnected ?? (() => undefined);
    this.logger = options.logger;
    this.limits = resolveTransportLimits(options.limits);
    this.frameFormat = options.frameFormat ?? frameFormatVersion;
    this.applicationFormat = options.applicationFormat ?? null;
    this.snapshotFormat = options.snapshotFormat ?? null;
    this.beaconPort = options.beaconPort ?? (() => null);
    if (
      !Number.isInteger(this.frameFormat) ||
      this.frameFormat < oldestFrameFormatVersion ||
      this.frameFormat > frameFormatVersion
    ) {
      throw new Error(`raft transport: frameFormat must be ${oldestFrameFormatVersion} to ${frameFormatVersion}`);
    }
    // Compression off: permessage-deflate adds latency and per-socket zlib memory to every
    // heartbeat, to save bytes on payloads the state machine already keeps compact.
    this.server = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      perMessageDeflate: false,
      maxPayload: this.limits.maxPayloadBytes,
    });
    // The dialer checks this header so a wrong address (another member now lives there) is
    // noticed at the handshake instead of as a stream of refused messages.
    this.server.on('headers', (headers) => {
      headers.push(`${NODE_HEADER}: ${this.self}`);
      headers.push(`${FRAME_FORMAT_HEADER}: ${this.frameFormat}`);
      if (this.applicationFormat !== null) headers.push(`${APPLICATION_FORMAT_HEADER}: ${this.applicationFormat}`);
      if (this.snapshotFormat !== null) headers.push(`${SNAPSHOT_FORMAT_HEADER}: ${this.snapshotFormat}`);
      const beaconPort = this.beaconPort();
      if (beaconPort !== null) headers.push(`${BEACON_HEADER}: ${beaconPort}`);
    });
    this.keepaliveTimer = setInterval(() => this.scheduleKeepaliveCheck(), this.limits.keepaliveIntervalMs);
  }

  /**
   * The address ("host:port") of every other member; replaces the previous set. Sockets to
   * removed peers are cut; a changed address is redialed. The entry for self is ignored.
   */
  setPeers(addresses: Readonly<Record<string, string>>): void {
    if (this.closed) return;
    const wanted = new Map<NodeId, string>();
    for (const [id, address] of Object.entries(addresses)) {
      if (id !== this.self) wanted.set(nodeId(id), address);
    }
    for (const peer of [...this.peers.values()]) {
      if (!wanted.has(peer.id)) this.removePeer(peer);
    }
    for (const [id, address] of wanted) {
      const existing = this.peers.get(id);
      if (existing === undefined) this.addPeer(id, address);
      else if (existing.address !== address) this.readdressPeer(existing, address);
    }
  }

  /**
   * Sends each peer its messages as one frame (more only when the batch exceeds
   * maxPayloadBytes), in the given order. Never queues beyond the socket and never throws for
   * network reasons: what cannot be sent now is dropped and counted, and Raft resends.
   */
  send(messages: readonly Message[]): void {
    if (this.closed) return;
    const batches = new Map<NodeId, Message[]>();
    for (const message of messages) {
      // Only this replica's core feeds send(); another sender is a bug in the driver.
      if (message.from !== this.self) {
        throw new Error(`raft transport: asked to send a message from ${message.from}, but this is ${this.self}`);
      }
      const batch = batches.get(message.to);
      if (batch === undefined) batches.set(message.to, [message]);
      else batch.push(message);
    }
    for (const [to, batch] of batches) {
      const peer = this.peers.get(to);
      if (peer === undefined) this.droppedToUnknownPeers += batch.length;
      else this.sendBatch(peer, batch);
    }
  }

  /**
   * For the master's HTTP server 'upgrade' event. Returns false, touching nothing, when the
   * path is not RAFT_PATH; otherwise takes the socket, accepting or refusing it.
   */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    if (requestPath(request) !== RAFT_PATH) return false;
    const verdict = this.judgeHandshake(request);
    if (!verdict.accepted) {
      this.reportRefusal(request, verdict.status, verdict.reason);
      refuseUpgrade(socket, verdict.status);
      return true;
    }
    const peer = verdict.peer;
    const frameFormat = this.agreedFrameFormat(request.headers[FRAME_FORMAT_HEADER]);
    const applicationFormat = namedFormat(request.headers[APPLICATION_FORMAT_HEADER]);
    const snapshotFormat = namedFormat(request.headers[SNAPSHOT_FORMAT_HEADER]);
    const beaconPort = namedPort(request.headers[BEACON_HEADER]);
    this.server.handleUpgrade(request, socket, head, (webSocket) => {
      this.socketBeaconPorts.set(webSocket, beaconPort);
      this.socketFrameFormats.set(webSocket, frameFormat);
      this.socketApplicationFormats.set(webSocket, applicationFormat);
      this.socketSnapshotFormats.set(webSocket, snapshotFormat);
      this.accept(peer, webSocket);
    });
    return true;
  }

  /**
   * The application format `peer` named at its latest handshake: undefined while it never
   * connected (or is no peer), null if it named none (a build before the header).
   */
  applicationFormatOf(peer: NodeId): number | null | undefined {
    return this.peers.get(peer)?.applicationFormat;
  }

  /** The snapshot format `peer` reads, as applicationFormatOf says the application format. */
  snapshotFormatOf(peer: NodeId): number | null | undefined {
    return this.peers.get(peer)?.snapshotFormat;
  }

  /**
   * Where `peer` takes beacons: the host of its address and the port its latest handshake named;
   * null if it named none or is not connected.
   */
  beaconTargetOf(peer: NodeId): { host: string; port: number } | null {
    const state = this.peers.get(peer);
    if (state === undefined || state.beaconPort === null || state.socket?.readyState !== WebSocket.OPEN) return null;
    if (!isDialableAddress(state.address)) return null;
    return { host: hostOf(state.address), port: state.beaconPort };
  }

  stats(): TransportStats {
    const peers: Record<string, PeerStats> = {};
    const ordered = [...this.peers.values()].sort((left, right) => compareIds(left.id, right.id));
    for (const peer of ordered) {
      peers[peer.id] = { connected: peer.socket?.readyState === WebSocket.OPEN, ...peer.counters };
    }
    return { peers, droppedToUnknownPeers: this.droppedToUnknownPeers };
  }

  /** Stops dialing and keepalive, closes every socket; resolves once all are closed. Idempotent. */
  close(): Promise<void> {
    if (this.closing !== null) return this.closing;
    this.closed = true;
    clearInterval(this.keepaliveTimer);
    if (this.keepaliveCheck !== null) clearImmediate(this.keepaliveCheck);
    this.keepaliveCheck = null;
    const closures: Promise<void>[] = [];
    for (const peer of this.peers.values()) {
      this.cancelReconnect(peer);
      if (peer.socket !== null) closures.push(closeSocket(peer.socket, this.limits.closeGraceMs));
    }
    this.server.close();
    this.closing = Promise.all(closures).then(() => undefined);
    return this.closing;
  }

  // --- membership ------------------------------------------------------------------------------

  private addPeer(id: NodeId, address: string): void {
    const peer: PeerState = {
      id,
      address,
      dialer: compareIds(this.self, id) < 0,
      socket: null,
      reconnectTimer: null,
      failedDials: 0,
      heardSinceLastPing: false,
      applicationFormat: undefined,
      snapshotFormat: undefined,
      beaconPort: null,
      outageLogged: false,
      counters: {
        sentFrames: 0,
        sentMessages: 0,
        droppedMessages: 0,
        receivedFrames: 0,
        receivedMessages: 0,
        rejectedMessages: 0,
        undecodableFrames: 0,
      },
    };
    this.peers.set(id, peer);
    this.logger.info({ peer: id, address, dialer: peer.dialer }, 'raft peer added');
    if (peer.dialer) this.dial(peer);
  }

  private removePeer(peer: PeerState): void {
    this.peers.delete(peer.id);
    this.cancelReconnect(peer);
    const socket = peer.socket;
    peer.socket = null;
    socket?.terminate();
    this.logger.info({ peer: peer.id, address: peer.address }, 'raft peer removed');
  }

  private readdressPeer(peer: PeerState, address: string): void {
    this.logger.info({ peer: peer.id, from: peer.address, to: address }, 'raft peer address changed');
    peer.address = address;
    // An acceptor keeps its socket: the peer dials us, from wherever it now is.
    if (!peer.dialer) return;
    this.cancelReconnect(peer);
    peer.failedDials = 0;
    if (peer.socket === null) {
      this.dial(peer);
      return;
    }
    // Its 'close' handler redials, to the new address.
    peer.socket.terminate();
  }

  // --- dialing ---------------------------------------------------------------------------------

  private beaconHeader(): Record<string, string> {
    const port = this.beaconPort();
    return port === null ? {} : { [BEACON_HEADER]: `${port}` };
  }

  private dial(peer: PeerState): void {
    if (this.closed || this.peers.get(peer.id) !== peer || peer.socket !== null) return;
    if (!isDialableAddress(peer.address)) {
      this.logger.warn({ peer: peer.id, address: peer.address }, 'raft peer address is not host:port; not dialing it');
      return;
    }
    const socket = new WebSocket(`${this.tls === null ? 'ws' : 'wss'}://${peer.address}${RAFT_PATH}`, {
      headers: {
        [NODE_HEADER]: this.self,
        [SECRET_HEADER]: this.secret,
        [FRAME_FORMAT_HEADER]: `${this.frameFormat}`,
        ...(this.applicationFormat === null ? {} : { [APPLICATION_FORMAT_HEADER]: `${this.applicationFormat}` }),
        ...(this.snapshotFormat === null ? {} : { [SNAPSHOT_FORMAT_HEADER]: `${this.snapshotFormat}` }),
        ...this.beaconHeader(),
      },
      perMessageDeflate: false,
      maxPayload: this.limits.maxPayloadBytes,
      handshakeTimeout: this.limits.handshakeTimeoutMs,
      generateMask: unmaskedFrames,
      ...this.dialTls(peer.id),
    });
    peer.socket = socket;
    socket.on('upgrade', (response) => {
      this.socketFrameFormats.set(socket, this.agreedFrameFormat(response.headers[FRAME_FORMAT_HEADER]));
      this.socketApplicationFormats.set(socket, namedFormat(response.headers[APPLICATION_FORMAT_HEADER]));
      this.socketSnapshotFormats.set(socket, namedFormat(response.headers[SNAPSHOT_FORMAT_HEADER]));
      this.socketBeaconPorts.set(socket, namedPort(response.headers[BEACON_HEADER]));
      const answering = response.headers[NODE_HEADER];
      if (answering === peer.id) return;
      this.logger.warn(
        { peer: peer.id, address: peer.address, answering: answering ?? null },
        'raft peer address is served by another node; disconnecting',
      );
      socket.terminate();
    });
    socket.on('open', () => {
      // Removal, re-addressing and close() cut a dial in flight; this only guards the invariant.
      if (this.closed || this.peers.get(peer.id) !== peer || peer.socket !== socket) socket.terminate();
      else this.attach(peer, socket);
    });
    this.watchSocket(peer, socket);
  }

  /** TLS options of a dial to `peer`: the CA, our certificate, and with mutual TLS the peer's name checked. */
  private dialTls(peer: NodeId): object {
    if (this.tls === null) return {};
    if (!this.tls.requireClientCert) return this.tls.clientOptions();
    return {
      ...this.tls.clientOptions(),
      checkServerIdentity: (host: string, certificate: PeerCertificate): Error | undefined => {
        const hostError = checkServerIdentity(host, certificate);
        if (hostError !== undefined) return hostError;
        const names = certificateNames(certificate);
        return names.includes(peer)
          ? undefined
          : new Error(`server certificate names ${names.join(', ')}, not ${peer}`);
      },
    };
  }

  private scheduleReconnect(peer: PeerState): void {
    if (this.closed || this.peers.get(peer.id) !== peer || peer.reconnectTimer !== null) return;
    const delayMs = backoffDelayMs(
      peer.failedDials,
      { baseMs: this.limits.reconnectBaseMs, maxMs: this.limits.reconnectMaxMs },
      Math.random,
    );
    peer.failedDials += 1;
    peer.reconnectTimer = setTimeout(() => {
      peer.reconnectTimer = null;
      this.dial(peer);
    }, delayMs);
  }

  private cancelReconnect(peer: PeerState): void {
    if (peer.reconnectTimer !== null) clearTimeout(peer.reconnectTimer);
    peer.reconnectTimer = null;
  }

  // --- accepting -------------------------------------------------------------------------------

  /** The format to write to a peer that reads up to `theirs` (absent: a build before formats were agreed, 1). */
  private agreedFrameFormat(theirs: string | string[] | undefined): number {
    const newest =
      typeof theirs === 'string' && /^[0-9]{1,3}$/.test(theirs) ? Number(theirs) : oldestFrameFormatVersion;
    return Math.max(oldestFrameFormatVersion, Math.min(this.frameFormat, newest));
  }

  private judgeHandshake(request: IncomingMessage): HandshakeVerdict {
    if (this.closed) return { accepted: false, status: 503, reason: 'transport is closed' };
    // The secret first, so a caller without it learns nothing about membership.
    if (!this.secretCheck.matches(request.headers[SECRET_HEADER])) {
      return { accepted: false, status: 401, reason: 'wrong or missing cluster secret' };
    }
    const claimed = request.headers[NODE_HEADER];
    if (typeof claimed !== 'string' || claimed === '') {
      return { accepted: false, status: 400, reason: `missing ${NODE_HEADER} header` };
    }
    if (this.tls?.requireClientCert === true) {
      const verdict = verifyClientCertificate(request.socket, claimed);
      if (!verdict.trusted) return { accepted: false, status: 403, reason: verdict.reason };
    }
    let peer = this.peers.get(nodeId(claimed));
    if (peer === undefined && this.acceptsUnknownPeers() && compareIds(claimed, this.self) < 0) {
      // Its address is learnt with the membership; as the acceptor we never dial it anyway.
      this.addPeer(nodeId(claimed), '');
      peer = this.peers.get(nodeId(claimed));
    }
    if (peer === undefined) return { accepted: false, status: 403, reason: 'not a current peer' };
    if (peer.dialer) {
      return { accepted: false, status: 409, reason: 'wrong direction: the replica whose id sorts lower dials' };
    }
    return { accepted: true, peer };
  }

  private reportRefusal(request: IncomingMessage, status: number, reason: string): void {
    const nowMs = Date.now();
    if (nowMs - this.refusalLoggedAtMs < refusalLogIntervalMs) {
      this.refusalsSuppressed += 1;
      return;
    }
    const claimed = request.headers[NODE_HEADER];
    this.logger.warn(
      {
        remoteAddress: request.socket.remoteAddress ?? null,
        remotePort: request.socket.remotePort ?? null,
        claimedNode: typeof claimed === 'string' ? claimed : null,
        status,
        reason,
        refusalsSuppressed: this.refusalsSuppressed,
      },
      'refused a raft peer connection',
    );
    this.refusalLoggedAtMs = nowMs;
    this.refusalsSuppressed = 0;
  }

  private accept(peer: PeerState, socket: WebSocket): void {
    if (this.closed || this.peers.get(peer.id) !== peer) {
      socket.terminate();
      return;
    }
    this.watchSocket(peer, socket);
    if (peer.socket !== null) {
      this.logger.info({ peer: peer.id }, 'raft peer reconnected; replacing its previous socket');
    }
    this.attach(peer, socket);
  }

  // --- both directions -------------------------------------------------------------------------

  /** Makes an open socket the peer's one socket, cutting any previous one (race 1). */
  private attach(peer: PeerState, socket: WebSocket): void {
    const previous = peer.socket;
    peer.socket = socket;
    peer.heardSinceLastPing = true;
    peer.failedDials = 0;
    peer.outageLogged = false;
    peer.applicationFormat = this.socketApplicationFormats.get(socket) ?? null;
    peer.snapshotFormat = this.socketSnapshotFormats.get(socket) ?? null;
    peer.beaconPort = this.socketBeaconPorts.get(socket) ?? null;
    this.attachedSockets.add(socket);
    if (previous !== null && previous !== socket) previous.terminate();
    this.logger.info({ peer: peer.id, address: peer.address, dialer: peer.dialer }, 'raft peer connected');
  }

  private watchSocket(peer: PeerState, socket: WebSocket): void {
    socket.on('message', (data, isBinary) => this.receiveFrame(peer, socket, data, isBinary));
    socket.on('pong', () => {
      if (peer.socket === socket) peer.heardSinceLastPing = true;
    });
    // Without a listener an 'error' event would throw and take the process down.
    socket.on('error', (error) => this.reportSocketError(peer, socket, error));
    socket.on('close', () => this.onSocketClosed(peer, socket));
  }

  private reportSocketError(peer: PeerState, socket: WebSocket, error: Error): void {
    const fields = { peer: peer.id, address: peer.address, error: error.message };
    if (this.attachedSockets.has(socket)) {
      // On an open socket ws reports protocol errors only (an oversized or malformed frame):
      // rare, and a sign of a misconfigured or broken peer.
      this.logger.warn(fields, 'raft peer socket failed');
      return;
    }
    if (peer.outageLogged) return;
    peer.outageLogged = true;
    this.logger.warn(fields, 'cannot reach raft peer; retrying with back-off');
  }

  private onSocketClosed(peer: PeerState, socket: WebSocket): void {
    if (peer.socket !== socket) return; // replaced or removed already (races 1 and 2)
    peer.socket = null;
    if (this.closed || this.peers.get(peer.id) !== peer) return;
    if (peer.dialer) this.scheduleReconnect(peer);
    if (this.attachedSockets.has(socket)) {
      this.logger.info({ peer: peer.id, address: peer.address }, 'raft peer disconnected');
      this.onPeerDisconnected(peer.id);
    }
  }

  /** Race 4: the pongs and frames that arrived while this loop was held are read first. */
  private scheduleKeepaliveCheck(): void {
    if (this.keepaliveCheck !== null) return;
    this.keepaliveCheck = setImmediate(() => {
      this.keepaliveCheck = null;
      if (!this.closed) this.checkKeepalive();
    });
  }

  private checkKeepalive(): void {
    for (const peer of this.peers.values()) {
      const socket = peer.socket;
      if (socket === null || socket.readyState !== WebSocket.OPEN) continue;
      if (!peer.heardSinceLastPing) {
        this.logger.warn(
          { peer: peer.id, address: peer.address, keepaliveIntervalMs: this.limits.keepaliveIntervalMs },
          'raft peer missed a pong; disconnecting',
        );
        socket.terminate();
        continue;
      }
      peer.heardSinceLastPing = false;
      socket.ping();
    }
  }

  // --- frames ----------------------------------------------------------------------------------

  private sendBatch(peer: PeerState, batch: readonly Message[]): void {
    const frames = cutIntoFrames(batch, this.limits.maxPayloadBytes);
    for (const oversized of frames.oversized) {
      peer.counters.droppedMessages += 1;
      this.logger.warn(
        { peer: peer.id, type: oversized.type, maxPayloadBytes: this.limits.maxPayloadBytes },
        'dropped a raft message larger than maxPayloadBytes',
      );
    }
    for (const frameMessages of frames.batches) this.sendFrame(peer, frameMessages);
  }

  private sendFrame(peer: PeerState, messages: readonly Message[]): void {
    const socket = peer.socket;
    // Back-pressure: a peer that does not read (slow, partitioned) must not make this process
    // buffer without bound. Checked before encoding, so a saturated peer costs no encoding.
    if (
      socket === null ||
      socket.readyState !== WebSocket.OPEN ||
      socket.bufferedAmount >= this.limits.maxBufferedBytes
    ) {
      peer.counters.droppedMessages += messages.length;
      return;
    }
    const frame = encodeMessages(messages, this.socketFrameFormats.get(socket) ?? oldestFrameFormatVersion);
    if (socket.bufferedAmount + frame.byteLength > this.limits.maxBufferedBytes) {
      peer.counters.droppedMessages += messages.length;
      return;
    }
    socket.send(frame, { binary: true });
    peer.counters.sentFrames += 1;
    peer.counters.sentMessages += messages.length;
  }

  private receiveFrame(peer: PeerState, socket: WebSocket, data: WebSocket.RawData, isBinary: boolean): void {
    if (this.closed) return;
    if (peer.socket === socket) peer.heardSinceLastPing = true;
    const counters = peer.counters;
    counters.receivedFrames += 1;
    const bytes = frameBytes(data);
    let messages: Message[];
    try {
      if (!isBinary) throw new Error('a text frame; raft frames are binary');
      messages = decodeMessages(bytes, this.frameFormat);
    } catch (error) {
      // A peer is another process, maybe of another version, maybe broken: its bytes are input,
      // not an invariant of ours, so no decoding failure may take this replica down.
      counters.undecodableFrames += 1;
      this.logger.warn(
        { peer: peer.id, frameBytes: bytes.byteLength, error: describeError(error) },
        'dropped a raft frame that does not decode',
      );
      return;
    }
    const accepted = messages.filter((message) => message.to === this.self && message.from === peer.id);
    if (accepted.length < messages.length) {
      counters.rejectedMessages += messages.length - accepted.length;
      this.logger.warn(
        { peer: peer.id, rejected: messages.length - accepted.length, of: messages.length },
        'dropped raft messages not addressed from that peer to this node',
      );
    }
    counters.receivedMessages += accepted.length;
    // Not caught: a throwing onMessages is a bug in the driver, and bugs stop the replica.
    if (accepted.length > 0) this.onMessages(accepted);
  }
}

// --- pure helpers ----------------------------------------------------------------------------

/** Fills in defaults and refuses a limit that is not a positive integer, in plain English. */
export function resolveTransportLimits(overrides: Partial<TransportLimits> = {}): TransportLimits {
  const limits: Record<string, number> = { ...defaultTransportLimits };
  for (const [key, value] of Object.entries(overrides)) {
    if (!(key in defaultTransportLimits)) throw new Error(`raft transport: unknown limit ${key}`);
    if (value !== undefined) limits[key] = value;
  }
  for (const [key, value] of Object.entries(limits)) {
    if (!Number.isInteger(value) || value <= 0) {
      throw new Error(`raft transport: limits.${key} must be a positive integer, got ${String(value)}`);
    }
  }
  const resolved = limits as unknown as TransportLimits;
  if (resolved.reconnectMaxMs < resolved.reconnectBaseMs) {
    throw new Error(
      `raft transport: reconnectMaxMs (${resolved.reconnectMaxMs}) must be at least reconnectBaseMs (${resolved.reconnectBaseMs})`,
    );
  }
  if (resolved.maxPayloadBytes > maxFrameBytes) {
    throw new Error(
      `raft transport: maxPayloadBytes (${resolved.maxPayloadBytes}) must not exceed the codec's maxFrameBytes (${maxFrameBytes})`,
    );
  }
  return Object.freeze(resolved);
}

/** The size of a frame holding no message: what a frame costs beyond its messages. */
const frameHeaderBytes = encodeMessages([]).byteLength;

/**
 * Cuts a batch, in order, into runs that each encode to at most maxPayloadBytes. A message that
 * alone exceeds it cannot be sent at all (the receiver would close the socket over it): it is
 * returned apart, for the caller to drop and report, which points at a sizing bug upstream
 * (maxAppendBytes, snapshotChunkBytes).
 */
function cutIntoFrames(
  batch: readonly Message[],
  maxPayloadBytes: number,
): { batches: Message[][]; oversized: Message[] } {
  const batches: Message[][] = [];
  const oversized: Message[] = [];
  let current: Message[] = [];
  let currentBytes = frameHeaderBytes;
  for (const message of batch) {
    const messageBytes = encodedMessageBytes(message);
    if (frameHeaderBytes + messageBytes > maxPayloadBytes) {
      oversized.push(message);
      continue;
    }
    if (currentBytes + messageBytes > maxPayloadBytes) {
      batches.push(current);
      current = [];
      currentBytes = frameHeaderBytes;
    }
    current.push(message);
    currentBytes += messageBytes;
  }
  if (current.length > 0) batches.push(current);
  return { batches, oversized };
}

/** Plain code-unit order: every replica must agree on who dials, whatever its locale. */
function compareIds(left: string, right: string): number {
  if (left < right) return -1;
  return left > right ? 1 : 0;
}

function requestPath(request: IncomingMessage): string {
  const url = request.url ?? '';
  const queryStart = url.indexOf('?');
  return queryStart === -1 ? url : url.slice(0, queryStart);
}

/** The host of "host:port" ("[::1]:5050" gives "::1"), as a socket takes it. */
export function hostOf(address: string): string {
  const host = new URL(`ws://${address}`).hostname;
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

function isDialableAddress(address: string): boolean {
  try {
    const url = new URL(`ws://${address}`);
    return url.port !== '' && url.pathname === '/' && url.search === '' && url.username === '';
  } catch {
    return false;
  }
}

/** Answers an upgrade with a bare HTTP status and closes, as ws does for its own refusals. */
/** Resolves once the socket is closed; a peer that does not answer the close handshake is cut. */
function closeSocket(socket: WebSocket, graceMs: number): Promise<void> {
  if (socket.readyState === WebSocket.CLOSED) return Promise.resolve();
  return new Promise((resolve) => {
    const cutTimer = setTimeout(() => socket.terminate(), graceMs);
    socket.once('close', () => {
      clearTimeout(cutTimer);
      resolve();
    });
    if (socket.readyState === WebSocket.CONNECTING) socket.terminate();
    else if (socket.readyState === WebSocket.OPEN) socket.close(closeCodeGoingAway, 'raft replica shutting down');
    // CLOSING: already on its way; the timer bounds the wait.
  });
}

function frameBytes(data: WebSocket.RawData): Uint8Array {
  if (Array.isArray(data)) return Buffer.concat(data);
  return data instanceof ArrayBuffer ? new Uint8Array(data) : data;
}

function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
