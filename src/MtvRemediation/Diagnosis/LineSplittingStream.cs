using System;
using System.IO;
using System.Text;

namespace MtvRemediation.Diagnosis
{
    /// <summary>
    /// A write-only stream that decodes UTF-8 as it arrives and hands over complete lines, so a
    /// remote command's output is consumed while it streams and never held whole. A line longer
    /// than <see cref="MaxLineChars"/> is cut (the rest up to its newline is dropped) so one
    /// newline-free blob cannot grow memory.
    /// </summary>
    internal sealed class LineSplittingStream : Stream
    {
        private readonly Action<string> _onLine;
        private readonly Decoder _decoder = new UTF8Encoding(false).GetDecoder();
        private readonly StringBuilder _line = new StringBuilder();
        private char[] _chars = new char[8192];
        private bool _overflow;

        public LineSplittingStream(Action<string> onLine, int maxLineChars = 64 * 1024)
        {
            _onLine = onLine ?? throw new ArgumentNullException(nameof(onLine));
            MaxLineChars = maxLineChars;
        }

        public int MaxLineChars { get; }

        /// <summary>Bytes written so far (what crossed the wire).</summary>
        public long BytesWritten { get; private set; }

        public override void Write(byte[] buffer, int offset, int count)
        {
            BytesWritten += count;
            var needed = _decoder.GetCharCount(buffer, offset, count, flush: false);
            if (needed > _chars.Length) _chars = new char[Math.Max(needed, _chars.Length * 2)];
            var n = _decoder.GetChars(buffer, offset, count, _chars, 0, flush: false);
            Consume(n);
        }

        /// <summary>Nothing is buffered below line level; see <see cref="Complete"/> for the last line.</summary>
        public override void Flush() { }

        /// <summary>Call when the command ended: hands over a final line without a newline.</summary>
        public void Complete()
        {
            var n = _decoder.GetChars(Array.Empty<byte>(), 0, 0, _chars, 0, flush: true);
            Consume(n);
            if (_line.Length > 0 || _overflow) EmitLine();
        }

        private void Consume(int n)
        {
            var start = 0;
            for (var i = 0; i < n; i++)
            {
                if (_chars[i] != '\n') continue;
                Append(start, i - start);
                EmitLine();
                start = i + 1;
            }
            Append(start, n - start);
        }

        private void Append(int start, int length)
        {
            if (length <= 0 || _overflow) return;
            var room = MaxLineChars - _line.Length;
            if (length > room) { length = room; _overflow = true; }
            _line.Append(_chars, start, length);
        }

        private void EmitLine()
        {
            if (_line.Length > 0 && _line[_line.Length - 1] == '\r') _line.Length--;
            var text = _line.ToString();
            _line.Clear();
            _overflow = false;
            _onLine(text);
        }

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
