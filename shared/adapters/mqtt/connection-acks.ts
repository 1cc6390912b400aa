/**
 * An acknowledgement belongs to the connection that delivered its message. A
 * PUBACK held past a reconnect (backpressure, a full disk) would name a packet
 * id that the broker may have given another message on the new connection, and
 * acknowledge that one unseen. So an acknowledgement from an older connection is
 * dropped: the broker redelivers the message, and dedup by (meter, seq) drops the repeat.
 */
export class ConnectionAcks {
  private connection = 0;
  private droppedCount = 0;

  /** The connection closed: acknowledgements still held for it must not be sent. */
  closed(): void {
    this.connection++;
  }

  /** Wraps MQTT.js's callback for one delivered message. */
  wrap(ack: () => void): () => void {
    const mine = this.connection;
    return () => {
      if (mine === this.connection) ack();
      else this.droppedCount++;
    };
  }

  /** Acknowledgements dropped because their connection had closed. */
  get dropped(): number {
    return this.droppedCount;
  }
}
