import PlanWatchModel
/// Splits a message received on the acknowledged-ingest ROUTER into the peer's envelope
/// (to send the reply back through) and the message itself.
///
/// A DEALER's message arrives as `[identity, topic, body]`; a REQ's as
/// `[identity, "", topic, body]`. Both are served; the reply goes behind the same envelope.
public enum RouterEnvelope {
    /// `(envelope, message)`; nil for a message without even an identity frame.
    public static func split(_ frames: [[UInt8]]) -> (envelope: [[UInt8]], message: [[UInt8]])? {
        guard let identity = frames.first else { return nil }
        var envelope = [identity]
        var message = Array(frames.dropFirst())
        if message.count >= 1 && message[0].isEmpty && message.count != 2 {
            envelope.append([])
            message.removeFirst()
        }
        return (envelope, message)
    }
}
