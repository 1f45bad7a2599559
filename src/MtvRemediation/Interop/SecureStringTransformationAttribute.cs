using System.Management.Automation;
using System.Security;

namespace MtvRemediation.Interop
{
    /// <summary>Turns a plain-text -Password into a SecureString (PowerCLI's Connect-VIServer takes a string there).</summary>
    internal sealed class SecureStringTransformationAttribute : ArgumentTransformationAttribute
    {
        public override object Transform(EngineIntrinsics engineIntrinsics, object inputData)
        {
            var value = inputData is PSObject pso ? pso.BaseObject : inputData;
            if (value is string text)
            {
                var secure = new SecureString();
                foreach (var ch in text) secure.AppendChar(ch);
                secure.MakeReadOnly();
                return secure;
            }
            return inputData;
        }
    }
}
