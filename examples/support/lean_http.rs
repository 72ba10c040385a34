//! HTTP/1.1 on raw keep-alive sockets for the load benchmarks: requests are prepared as bytes
//! up front and responses parsed with `httparse`. The load generator and the fake platform run
//! on the same two cores as souk, so every microsecond they spend is taken from the thing being
//! measured; a general-purpose client and server (reqwest, axum with JSON extractors) cost about
//! as much CPU per message as souk itself did.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

fn invalid(message: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message.into())
}

fn content_length(headers: &[httparse::Header<'_>]) -> io::Result<usize> {
    for header in headers {
        if header.name.eq_ignore_ascii_case("content-length") {
            return std::str::from_utf8(header.value)
                .ok()
                .and_then(|v| v.trim().parse().ok())
                .ok_or_else(|| invalid("bad content-length"));
        }
        if header.name.eq_ignore_ascii_case("transfer-encoding") {
            return Err(invalid("chunked bodies are not expected here"));
        }
    }
    Ok(0)
}

/// A complete POST request with a body, ready to be written as is.
pub fn post(host: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut request = format!("POST {path} HTTP/1.1\r\nhost: {host}\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str(&format!("content-length: {}\r\n\r\n", body.len()));
    let mut bytes = request.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// One keep-alive client connection.
pub struct Client {
    stream: TcpStream,
    buffer: Vec<u8>,
}

impl Client {
    pub async fn connect(address: SocketAddr) -> io::Result<Client> {
        let stream = TcpStream::connect(address).await?;
        stream.set_nodelay(true)?;
        Ok(Client {
            stream,
            buffer: Vec::with_capacity(4096),
        })
    }

    /// Writes one prepared request and reads its response; returns the status code.
    pub async fn exchange(&mut self, request: &[u8]) -> io::Result<u16> {
        self.stream.write_all(request).await?;
        loop {
            let mut headers = [httparse::EMPTY_HEADER; 32];
            let mut response = httparse::Response::new(&mut headers);
            if let httparse::Status::Complete(head) = response
                .parse(&self.buffer)
                .map_err(|e| invalid(e.to_string()))?
            {
                let total = head + content_length(response.headers)?;
                if self.buffer.len() >= total {
                    let status = response.code.unwrap_or(0);
                    self.buffer.drain(..total);
                    return Ok(status);
                }
            }
            if self.stream.read_buf(&mut self.buffer).await? == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
        }
    }
}

/// Answers every request on `listener` with 200 and the JSON `respond` returns for its body.
pub async fn serve<F>(listener: TcpListener, respond: Arc<F>)
where
    F: Fn(&[u8]) -> String + Send + Sync + 'static,
{
    while let Ok((stream, _)) = listener.accept().await {
        let respond = respond.clone();
        tokio::spawn(async move {
            let _ = serve_connection(stream, &*respond).await;
        });
    }
}

async fn serve_connection<F>(mut stream: TcpStream, respond: &F) -> io::Result<()>
where
    F: Fn(&[u8]) -> String,
{
    stream.set_nodelay(true)?;
    let mut buffer = Vec::with_capacity(4096);
    let mut out = Vec::with_capacity(512);
    loop {
        // Answer every complete request already buffered, then write them in one go.
        loop {
            let mut headers = [httparse::EMPTY_HEADER; 32];
            let mut request = httparse::Request::new(&mut headers);
            let httparse::Status::Complete(head) =
                request.parse(&buffer).map_err(|e| invalid(e.to_string()))?
            else {
                break;
            };
            let total = head + content_length(request.headers)?;
            if buffer.len() < total {
                break;
            }
            let body = respond(&buffer[head..total]);
            out.extend_from_slice(
                format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                    body.len()
                )
                .as_bytes(),
            );
            out.extend_from_slice(body.as_bytes());
            buffer.drain(..total);
        }
        if !out.is_empty() {
            stream.write_all(&out).await?;
            out.clear();
        }
        if stream.read_buf(&mut buffer).await? == 0 {
            return Ok(());
        }
    }
}
