/// An RFC 3339 instant with its UTC offset, e.g. `2026-03-02T08:10:00+08:00`.
public struct Timestamp: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    /// Milliseconds since 1970-01-01T00:00:00Z.
    public var epochMilliseconds: Int64
    /// The offset from UTC the instant is written with, in minutes.
    public var offsetMinutes: Int

    /// China Standard Time, the offset PlanWatch writes its own timestamps in.
    public static let chinaOffsetMinutes = 480

    /// An instant written with the given offset.
    public init(epochMilliseconds: Int64, offsetMinutes: Int = Timestamp.chinaOffsetMinutes) {
        self.epochMilliseconds = epochMilliseconds
        self.offsetMinutes = offsetMinutes
    }

    /// Parses RFC 3339 with a mandatory offset (`Z` or `±hh:mm`); nil when invalid.
    public init?(rfc3339 text: String) {
        let b = Array(text.utf8)
        func num(_ start: Int, _ count: Int) -> Int? {
            guard start + count <= b.count else { return nil }
            var v = 0
            for i in start..<(start + count) {
                guard b[i] >= 48 && b[i] <= 57 else { return nil }
                v = v * 10 + Int(b[i] - 48)
            }
            return v
        }
        guard b.count >= 20,
            let year = num(0, 4), b[4] == UInt8(ascii: "-"), let month = num(5, 2), b[7] == UInt8(ascii: "-"),
            let day = num(8, 2), b[10] == UInt8(ascii: "T") || b[10] == UInt8(ascii: "t"),
            let hour = num(11, 2), b[13] == UInt8(ascii: ":"), let minute = num(14, 2),
            b[16] == UInt8(ascii: ":"), let second = num(17, 2),
            let date = LocalDate(year: year, month: month, day: day),
            hour < 24, minute < 60, second < 60
        else { return nil }
        var i = 19
        var millis = 0
        if i < b.count, b[i] == UInt8(ascii: ".") {
            i += 1
            var digits = 0
            while i < b.count, b[i] >= 48 && b[i] <= 57 {
                if digits < 3 { millis = millis * 10 + Int(b[i] - 48) }
                digits += 1
                i += 1
            }
            guard digits > 0 else { return nil }
            if digits < 3 { for _ in digits..<3 { millis *= 10 } }
        }
        guard i < b.count else { return nil }
        var offset = 0
        if b[i] == UInt8(ascii: "Z") || b[i] == UInt8(ascii: "z") {
            guard i + 1 == b.count else { return nil }
        } else {
            guard b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-"), i + 6 == b.count,
                let oh = num(i + 1, 2), b[i + 3] == UInt8(ascii: ":"), let om = num(i + 4, 2), oh < 24, om < 60
            else { return nil }
            offset = (oh * 60 + om) * (b[i] == UInt8(ascii: "-") ? -1 : 1)
        }
        let localSeconds = Int64(date.dayNumber) * 86_400 + Int64(hour * 3600 + minute * 60 + second)
        epochMilliseconds = (localSeconds - Int64(offset * 60)) * 1000 + Int64(millis)
        offsetMinutes = offset
    }

    /// The calendar date at this instant in its own offset.
    public var localDate: LocalDate {
        let local = epochMilliseconds / 1000 + Int64(offsetMinutes * 60)
        return LocalDate(dayNumber: Int(floorDiv(local, 86_400)))
    }

    /// RFC 3339 text in this instant's offset, with milliseconds only when non-zero.
    /// (Written digit by digit: every alert and indicator carries two or three of these.)
    public var description: String {
        var b: [UInt8] = []
        b.reserveCapacity(29)
        write(into: &b)
        return String(decoding: b, as: UTF8.self)
    }

    /// ``description``'s bytes, appended to `b`: a JSON body writes them in place, between
    /// quotes (they never need an escape), without a string made for each.
    func write(into b: inout [UInt8]) {
        let localMillis = epochMilliseconds + Int64(offsetMinutes) * 60_000
        let days = floorDiv(localMillis, 86_400_000)
        let msOfDay = Int(localMillis - days * 86_400_000)
        let date = LocalDate(dayNumber: Int(days))
        let seconds = msOfDay / 1000
        let ms = msOfDay % 1000
        func digits(_ v: Int, _ count: Int) {
            var divisor = 1
            for _ in 1..<count { divisor *= 10 }
            var v = v
            for _ in 0..<count {
                b.append(UInt8(48 + v / divisor % 10))
                v %= divisor
                divisor /= 10
            }
        }
        digits(date.year, 4)
        b.append(UInt8(ascii: "-"))
        digits(date.month, 2)
        b.append(UInt8(ascii: "-"))
        digits(date.day, 2)
        b.append(UInt8(ascii: "T"))
        digits(seconds / 3600, 2)
        b.append(UInt8(ascii: ":"))
        digits(seconds / 60 % 60, 2)
        b.append(UInt8(ascii: ":"))
        digits(seconds % 60, 2)
        if ms != 0 {
            b.append(UInt8(ascii: "."))
            digits(ms, 3)
        }
        if offsetMinutes == 0 {
            b.append(UInt8(ascii: "Z"))
        } else {
            b.append(UInt8(ascii: offsetMinutes < 0 ? "-" : "+"))
            let off = abs(offsetMinutes)
            digits(off / 60, 2)
            b.append(UInt8(ascii: ":"))
            digits(off % 60, 2)
        }
    }

    /// This instant moved by a number of seconds.
    public func adding(seconds: Int64) -> Timestamp {
        Timestamp(epochMilliseconds: epochMilliseconds + seconds * 1000, offsetMinutes: offsetMinutes)
    }

    /// The same instant written in China Standard Time.
    public var inChinaTime: Timestamp { Timestamp(epochMilliseconds: epochMilliseconds) }

    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool { lhs.epochMilliseconds < rhs.epochMilliseconds }
    public static func == (lhs: Timestamp, rhs: Timestamp) -> Bool { lhs.epochMilliseconds == rhs.epochMilliseconds }
    public func hash(into hasher: inout Hasher) { hasher.combine(epochMilliseconds) }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let value = Timestamp(rfc3339: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not RFC 3339: \(text)"))
        }
        self = value
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
    let q = a / b
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
}

func pad2(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
