import Foundation
import ZeroMQ

/// A producer on the acknowledged path that behaves as CONTRACT.md asks: a window of messages
/// in flight on a DEALER, anything not answered `ok` or `duplicate` within `resend` seconds
/// (the daemon may have died meanwhile) or answered `busy` is sent again, with a fresh socket.
public enum Producer {
    /// Sends message `0..<count` (`message(n)` gives topic, body and id) until each is
    /// answered `ok`, `duplicate` or `rejected`; `answered(id, status)` is called once per
    /// message. Returns false if `seconds` passed first.
    @discardableResult
    public static func run(
        count: Int, ack: String, window: Int = 64, resend: Double = 2, seconds: Double = 600,
        message: (Int) -> (topic: [UInt8], body: [UInt8], id: String), answered: (String, String) -> Void
    ) -> Bool {
        let context = ZMQContext()
        func connect() -> ZMQSocket? {
            guard let dealer = try? ZMQSocket(context: context, type: .dealer), (try? dealer.connect(ack)) != nil else { return nil }
            return dealer
        }
        guard var dealer = connect() else { return false }
        var pending: [String: (frames: [[UInt8]], sentAt: Date)] = [:]
        var next = 0
        var done = 0
        let deadline = Date().addingTimeInterval(seconds)
        while done < count && Date() < deadline {
            while pending.count < window && next < count {
                let m = message(next)
                _ = try? dealer.send([m.topic, m.body])
                pending[m.id] = ([m.topic, m.body], Date())
                next += 1
            }
            var poller = Poller()
            poller.add(dealer)
            if (try? poller.poll(timeoutMilliseconds: 100))?[0] == true {
                while let reply = try? dealer.receive(wait: false), reply.count == 3 {
                    let status = String(decoding: reply[0], as: UTF8.self)
                    let id = String(decoding: reply[1], as: UTF8.self)
                    guard pending[id] != nil else { continue }
                    if status == "busy" {
                        pending[id]?.sentAt = .distantPast
                    } else {
                        pending[id] = nil
                        done += 1
                        answered(id, status)
                    }
                }
            }
            let now = Date()
            let late = pending.filter { now.timeIntervalSince($0.value.sentAt) > resend }
            if !late.isEmpty {
                // A fresh socket: replies to the old one, if they ever come, are dropped with it.
                dealer.close()
                guard let fresh = connect() else { return false }
                dealer = fresh
                for (id, p) in late {
                    _ = try? dealer.send(p.frames)
                    pending[id]?.sentAt = now
                }
            }
        }
        dealer.close()
        return done == count
    }
}
