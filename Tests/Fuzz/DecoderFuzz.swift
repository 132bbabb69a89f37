// libFuzzer target over the ROUTER envelope split and the event decoder: whatever bytes a
// peer sends, decoding returns an Event or a Rejection, and never crashes.
// Built by .ci/fuzz with the PlanWatchModel sources: swiftc -sanitize=fuzzer,address.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    // The input is frames separated by 0xFF 0xFE (bytes that never occur in UTF-8), so the
    // fuzzer explores frame counts, empty frames and topics as well as bodies.
    var frames: [[UInt8]] = [[]]
    var i = 0
    while i < bytes.count {
        if i + 1 < bytes.count && bytes[i] == 0xFF && bytes[i + 1] == 0xFE {
            frames.append([])
            i += 2
        } else {
            frames[frames.count - 1].append(bytes[i])
            i += 1
        }
    }
    let decoder = EventDecoder(maxBodyBytes: 4096)
    if let (envelope, message) = RouterEnvelope.split(frames) {
        precondition(!envelope.isEmpty)
        switch decoder.decode(frames: message) {
        case .success(let event):
            precondition(!event.id.isEmpty && event.id.count <= 128)
        case .failure(let rejection):
            precondition(!rejection.detail.isEmpty)
        }
    }
    // The body alone, behind a topic it must agree with.
    if let body = frames.last {
        _ = decoder.decode(topic: Array("safety.incident.370303".utf8), body: body)
    }
    return 0
}
