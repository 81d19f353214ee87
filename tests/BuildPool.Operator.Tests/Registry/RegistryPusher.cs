using System.Net;
using System.Net.Http.Headers;

namespace BuildPool.Operator.Tests.Registry;

/// <summary>Pushes test caches through the registry API as a client would: blob uploads, then the manifest.</summary>
internal static class RegistryPusher
{
    public static async Task PushAsync(HttpClient http, string repository, string tag, TestCache cache)
    {
        foreach (var blob in cache.Blobs)
        {
            using var head = await http.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"v2/{repository}/blobs/{blob.Digest}"));
            if (head.StatusCode == HttpStatusCode.OK)
            {
                continue;
            }

            using var start = await http.PostAsync($"v2/{repository}/blobs/uploads/", null);
            Assert.Equal(HttpStatusCode.Accepted, start.StatusCode);
            var location = start.Headers.Location!;
            var upload = location.IsAbsoluteUri ? location : new Uri(http.BaseAddress!, location);
            var separator = upload.Query.Length > 0 ? "&" : "?";
            using var content = new ByteArrayContent(blob.Content);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            using var put = await http.PutAsync(new Uri(upload + separator + "digest=" + Uri.EscapeDataString(blob.Digest)), content);
            Assert.True(put.StatusCode == HttpStatusCode.Created, $"blob upload: {(int)put.StatusCode} {await put.Content.ReadAsStringAsync()}");
        }

        using var manifest = new ByteArrayContent(cache.Manifest);
        manifest.Headers.ContentType = new MediaTypeHeaderValue(cache.MediaType);
        using var response = await http.PutAsync($"v2/{repository}/manifests/{tag}", manifest);
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"manifest {repository}:{tag}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }
}
