using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Management.Automation;
using System.Text;
using System.Threading;
using MtvRemediation.Esxi;
using MtvRemediation.Infrastructure;

namespace MtvRemediation.Esxi
{
    /// <summary>Small building blocks the host engines share: run-and-check, sectioned output, byte upload.</summary>
    internal static class RemoteOps
    {
        public static readonly TimeSpan ShortTimeout = TimeSpan.FromSeconds(60);

        public static RemoteCommandResult Run(IEsxiShell shell, RemoteCommand command, CancellationToken ct, TimeSpan? timeout = null)
        {
            try
            {
                return shell.Run(command, timeout ?? ShortTimeout, ct);
            }
            catch (Exception ex) when (AsHostFailure(ex, shell.HostName, ct) is MtvException failure && failure != ex)
            {
                throw failure;
            }
        }

        /// <summary>Runs a command whose stdout is binary (file contents) into memory, up to <paramref name="maxBytes"/>.</summary>
        public static byte[] RunBytes(IEsxiShell shell, RemoteCommand command, long maxBytes, CancellationToken ct, out RemoteCommandResult result, TimeSpan? timeout = null)
        {
            using var buffer = new CappedMemoryStream(maxBytes);
            result = RunStreaming(shell, command, buffer, ct, timeout);
            return buffer.ToArray();
        }

        public static RemoteCommandResult RunStreaming(IEsxiShell shell, RemoteCommand command, Stream sink, CancellationToken ct, TimeSpan? timeout = null)
        {
            try
            {
                return shell.RunStreamingAsync(command, sink, timeout ?? ShortTimeout, ct).GetAwaiter().GetResult();
            }
            catch (CappedMemoryStream.CapExceededException) { throw; }
            catch (Exception ex) when (FindCap(ex) != null) { throw FindCap(ex)!; }
            catch (Exception ex) when (AsHostFailure(ex, shell.HostName, ct) is MtvException failure && failure != ex)
            {
                throw failure;
            }
        }

        /// <summary>
        /// The one translation of what a host's remote work throws into that host's error, used by
        /// the engines' remote calls and by the host fan-out around each host's work: our own errors
        /// keep their id; a timeout (not a cancellation) is EsxiShellCommandTimeout; a transport
        /// failure the shell did not translate itself is EsxiShellConnectFailed. Null for what
        /// passes through unchanged: cancellation and programming errors.
        /// </summary>
        public static MtvException? AsHostFailure(Exception ex, string hostName, CancellationToken ct)
        {
            if (ex is MtvException known) return known;
            if (ex is OperationCanceledException || ct.IsCancellationRequested) return null;
            if (ex is TimeoutException)
            {
                return new RemediationException(EsxiShellErrorIds.CommandTimeout, ErrorCategory.OperationTimeout,
                    ex.Message, "Check that the host is up and not overloaded, and the network; raise the command's timeout if the host is slow, then run the command again.", ex);
            }
            if (!EsxiShellFailures.IsTransportFailure(ex)) return null;
            return new RemediationException(EsxiShellErrorIds.ConnectFailed, ErrorCategory.ConnectionError,
                $"Host '{hostName}' cannot be reached over SSH: {ex.Message}",
                "Check the host's SSH service (TSM-SSH) and the credentials, then run the command again.", ex);
        }

        private static CappedMemoryStream.CapExceededException? FindCap(Exception? ex)
        {
            for (; ex != null; ex = ex.InnerException)
            {
                if (ex is CappedMemoryStream.CapExceededException cap) return cap;
                if (ex is AggregateException agg && agg.InnerExceptions.Count == 1) return FindCap(agg.InnerExceptions[0]);
            }
            return null;
        }

        /// <summary>
        /// Splits output made of <c>@@name</c> marker lines into sections (name -> text). A section's
        /// exit status, printed as <c>@@rc N</c>, is stored under <c>name.rc</c>.
        /// </summary>
        public static Dictionary<string, string> Sections(string stdout)
        {
            var map = new Dictionary<string, string>(StringComparer.Ordinal);
            string? current = null;
            var sb = new StringBuilder();
            foreach (var line in stdout.Replace("\r\n", "\n").Split('\n'))
            {
                if (line.StartsWith("@@rc ", StringComparison.Ordinal) && current != null)
                {
                    map[current + ".rc"] = line.Substring(5).Trim();
                    continue;
                }
                if (line.StartsWith("@@", StringComparison.Ordinal) && line.Length > 2 && line.IndexOf(' ') < 0)
                {
                    if (current != null) map[current] = sb.ToString();
                    current = line.Substring(2);
                    sb.Clear();
                    continue;
                }
                if (current != null) sb.Append(line).Append('\n');
            }
            if (current != null) map[current] = sb.ToString();
            return map;
        }

        public static long? ParseLong(string? text)
        {
            if (text == null) return null;
            return long.TryParse(text.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v) ? v : (long?)null;
        }

        /// <summary>
        /// Encodes bytes as a printf format that reproduces them exactly: safe ASCII stays literal,
        /// everything else (including %, \, quotes, CR, LF, non-ASCII) becomes a 3-digit octal escape.
        /// ash's builtin printf understands \NNN, so no base64 tool is needed on the host. A leading
        /// '-' is escaped too, so the format is never read as an option.
        /// </summary>
        public static string PrintfFormat(byte[] data, int offset, int count)
        {
            var sb = new StringBuilder(count * 2);
            for (var i = offset; i < offset + count; i++) AppendEncoded(sb, data[i], i == offset);
            return sb.ToString();
        }

        private static bool IsLiteral(byte b) =>
            (b >= (byte)'a' && b <= (byte)'z') || (b >= (byte)'A' && b <= (byte)'Z') || (b >= (byte)'0' && b <= (byte)'9')
            || b == (byte)' ' || b == (byte)',' || b == (byte)'.' || b == (byte)':' || b == (byte)'-' || b == (byte)'_'
            || b == (byte)'/' || b == (byte)'=' || b == (byte)'+' || b == (byte)'(' || b == (byte)')' || b == (byte)'[' || b == (byte)']';

        private static void AppendEncoded(StringBuilder sb, byte b, bool first)
        {
            if (IsLiteral(b) && !(first && b == (byte)'-')) sb.Append((char)b);
            else sb.Append('\\').Append(Convert.ToString(b, 8).PadLeft(3, '0'));
        }

        /// <summary>
        /// Splits bytes [offset, offset + count) into printf formats of at most
        /// <paramref name="maxEncodedChars"/> characters each, sized by their ENCODED length: a byte
        /// is 1 character literal or 4 as an octal escape, so non-ASCII data needs 4x the room.
        /// </summary>
        public static List<(int Offset, int Count, string Format)> PrintfChunks(byte[] data, int offset, int count, int maxEncodedChars)
        {
            if (maxEncodedChars < 8) throw new ArgumentOutOfRangeException(nameof(maxEncodedChars), maxEncodedChars, "Too little room for any data.");
            var chunks = new List<(int, int, string)>();
            var sb = new StringBuilder(Math.Min(maxEncodedChars, count * 4 + 4));
            var start = offset;
            for (var i = offset; i < offset + count; i++)
            {
                var first = i == start;
                var need = IsLiteral(data[i]) && !(first && data[i] == (byte)'-') ? 1 : 4;
                if (sb.Length + need > maxEncodedChars)
                {
                    chunks.Add((start, i - start, sb.ToString()));
                    sb.Clear();
                    start = i;
                    first = true;
                }
                AppendEncoded(sb, data[i], first);
            }
            if (sb.Length > 0) chunks.Add((start, offset + count - start, sb.ToString()));
            return chunks;
        }

        /// <summary>
        /// Largest command text (UTF-8 bytes) sent in one request. SSH.NET refuses to send a packet
        /// over its limit ("Packet is too big": a 24 KiB chunk of non-ASCII data, ~96 KiB encoded,
        /// failed), and the command travels in one packet, so every upload is sized against this.
        /// </summary>
        public const int MaxCommandBytes = 32 * 1024;

        /// <summary>Room for data in a command whose text without the data is <paramref name="commandWithoutData"/>.</summary>
        public static int RoomForData(RemoteCommand commandWithoutData) =>
            MaxCommandBytes - Encoding.UTF8.GetByteCount(commandWithoutData.Text) - 16;
    }

    /// <summary>A memory stream that refuses to grow past a cap (keeps client memory bounded).</summary>
    internal sealed class CappedMemoryStream : MemoryStream
    {
        private readonly long _cap;
        public CappedMemoryStream(long cap) => _cap = cap;

        public override void Write(byte[] buffer, int offset, int count)
        {
            if (Length + count > _cap) throw new CapExceededException(_cap);
            base.Write(buffer, offset, count);
        }

        public override void WriteByte(byte value)
        {
            if (Length + 1 > _cap) throw new CapExceededException(_cap);
            base.WriteByte(value);
        }

        public sealed class CapExceededException : IOException
        {
            public CapExceededException(long cap) : base($"More than {cap} bytes arrived.") => Cap = cap;
            public long Cap { get; }
        }
    }
}
